#!/usr/bin/python3
"""A misbehaving SNMPv2c agent for the tests (pysnmp's message codec, our own socket).

usage: fake_agent.py MODE [ARG]
  good              answers every GET with INTEGER <the last but one sub-id of the OID>
  toobig N          answers tooBig to a GET of more than N OIDs, else as good
  late MS           answers as good, MS milliseconds late
  garbage           answers bytes that are no SNMP message
  wrongport         answers from another port first (INTEGER 666), then from its own as good
  silent            never answers
Prints "PORT <n>" once listening on 127.0.0.1, then "GET <number of OIDs>" per request.
"""
import socket
import sys
import time

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

mode = sys.argv[1]
arg = int(sys.argv[2]) if len(sys.argv) > 2 else 0
p = api.protoModules[api.protoVersion2c]

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind(("127.0.0.1", 0))
print("PORT", sock.getsockname()[1], flush=True)


def answer(message, value=None, error_status=0):
    request = p.apiMessage.getPDU(message)
    response = p.apiMessage.getResponse(message)
    pdu = p.apiMessage.getPDU(response)
    binds = [(oid, p.Integer(value if value is not None else oid[-2]))
             for oid, _ in p.apiPDU.getVarBinds(request)]
    p.apiPDU.setVarBinds(pdu, binds)
    if error_status:
        p.apiPDU.setErrorStatus(pdu, error_status)
        p.apiPDU.setErrorIndex(pdu, 0)
    return encoder.encode(response)


while True:
    data, peer = sock.recvfrom(65535)
    try:
        message, _ = decoder.decode(data, asn1Spec=p.Message())
    except Exception:
        continue
    oids = len(p.apiPDU.getVarBinds(p.apiMessage.getPDU(message)))
    print("GET", oids, flush=True)
    if mode == "silent":
        continue
    if mode == "garbage":
        sock.sendto(b"\x30\x03\x02\x01garbage-not-ber", peer)
        continue
    if mode == "late":
        time.sleep(arg / 1000.0)
    if mode == "wrongport":
        other.sendto(answer(message, 666), peer)
        time.sleep(0.05)
    if mode == "toobig" and oids > arg:
        sock.sendto(answer(message, error_status=1), peer)
        continue
    sock.sendto(answer(message), peer)
