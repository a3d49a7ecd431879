package dev.siteward.gateway.models;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds small ONNX ModelProto files byte by byte (onnx.proto3 field numbers), for tests. */
final class Onnx {

    private Onnx() {
    }

    /** A model with input x[1,4], output y[1,2] and one initializer of {@code weights} raw bytes. */
    static byte[] model(byte[] weights, boolean externalData) {
        byte[] tensor = externalData
                ? cat(str(8, "w"), varint(14, 1), msg(13, cat(str(1, "location"), str(2, "weights.bin"))))
                : cat(str(8, "w"), msg(9, weights));
        byte[] graph = cat(str(2, "g"), msg(5, tensor), msg(11, valueInfo("x", 1, 4)), msg(12, valueInfo("y", 1, 2)));
        return cat(varint(1, 8), msg(7, graph));
    }

    static byte[] valueInfo(String name, long... dims) {
        byte[] shape = new byte[0];
        for (long d : dims) {
            shape = cat(shape, msg(1, varint(1, d)));
        }
        byte[] tensorType = cat(varint(1, 1), msg(2, shape));
        return cat(str(1, name), msg(2, msg(1, tensorType)));
    }

    static byte[] msg(int field, byte[] body) {
        return cat(key(field, 2), raw(body.length), body);
    }

    static byte[] str(int field, String s) {
        return msg(field, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] varint(int field, long v) {
        return cat(key(field, 0), raw(v));
    }

    private static byte[] key(int field, int wire) {
        return raw(((long) field << 3) | wire);
    }

    private static byte[] raw(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
