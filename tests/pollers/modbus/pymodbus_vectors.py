#!/usr/bin/python3
# Reference register encodings from pymodbus's BinaryPayloadBuilder, one JSON
# object per line: {"type", "order", "value", "registers"}. The Modbus tests run
# this at test time and decode (and encode) every vector with edgepoll's codec.
# Byte orders: ABCD = byteorder Big, wordorder Big; DCBA = Little, Little;
# BADC = Little, Big; CDAB = Big, Little.
import json
import sys

from pymodbus.constants import Endian
from pymodbus.payload import BinaryPayloadBuilder

ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
}
VALUES = {
    "int16": ("add_16bit_int", [0, 1, -1, 12345, -32768, 32767]),
    "uint16": ("add_16bit_uint", [0, 1, 0x1234, 65535]),
    "int32": ("add_32bit_int", [0, -1, 0x12345678, -2147483648, 2147483647]),
    "uint32": ("add_32bit_uint", [0, 0x11223344, 4294967295]),
    "int64": ("add_64bit_int", [0, -1, 0x1122334455667788, -9223372036854775808]),
    "uint64": ("add_64bit_uint", [0, 0x1122334455667788, 9223372036854775807]),
    "float32": ("add_32bit_float", [0.0, 1.5, -273.25, 3.0e38, 1.0e-30]),
    "float64": ("add_64bit_float", [0.0, 2.718281828459045, -1.0e300, 5.0e-324]),
}

for order, (byteorder, wordorder) in ORDERS.items():
    for type_name, (method, values) in VALUES.items():
        for value in values:
            builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
            getattr(builder, method)(value)
            print(json.dumps({"type": type_name, "order": order, "value": value,
                              "registers": builder.to_registers()}))
    # pymodbus packs strings byte for byte whatever the byte order (it takes no
    # order for text); edgepoll's BADC/DCBA strings are byte-swapped per register,
    # which the test derives from these.
    builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
    builder.add_string("SN-4711 ")
    print(json.dumps({"type": "string", "order": order, "value": "SN-4711",
                      "registers": builder.to_registers()}))
sys.stdout.flush()
