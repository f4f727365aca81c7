#!/usr/bin/python3
# A real Modbus TCP server (pymodbus 3.0) standing in for a gateway: unit ids
# --units (comma list) are served, each with holding registers 0..99 whose value
# is unit*100 + address; a unit id it lacks gets no answer at all (pymodbus,
# like real gateways, drops the request). Prints "listening=127.0.0.1:PORT".
import argparse
import asyncio
import socket

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", required=True)
    args = parser.parse_args()
    slaves = {}
    for unit in (int(u) for u in args.units.split(",")):
        block = ModbusSequentialDataBlock(0, [unit * 100 + a for a in range(100)])
        slaves[unit] = ModbusSlaveContext(hr=block, ir=block, zero_mode=True)
    context = ModbusServerContext(slaves=slaves, single=False)
    port = free_port()
    print(f"listening=127.0.0.1:{port}", flush=True)
    asyncio.run(StartAsyncTcpServer(context=context, address=("127.0.0.1", port)))


if __name__ == "__main__":
    main()
