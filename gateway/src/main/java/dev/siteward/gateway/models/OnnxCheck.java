package dev.siteward.gateway.models;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads just enough of an ONNX file (a protobuf {@code onnx.ModelProto}, onnx/onnx.proto3) to refuse models that
 * are not self-contained and to learn the main graph's inputs and outputs, streaming: large fields (weights) are
 * skipped, never loaded.
 *
 * <p>A model is refused when any {@code TensorProto} anywhere — graph initializers, sparse initializers, constant
 * tensors in node attributes, subgraphs of control-flow nodes, functions and training graphs — has
 * {@code data_location = EXTERNAL} (field 14) or any {@code external_data} entry (field 13): such a tensor's bytes live
 * in another file, which the signature's verified bytes would not cover when loaded from memory. The file must parse
 * as protobuf and have a graph (field 7); nesting deeper than {@value #MAX_DEPTH} messages is refused.
 */
public final class OnnxCheck {

    static final int MAX_DEPTH = 64;

    /** One input or output of the main graph: its name and dimensions (Long, String parameter, or null). */
    public record ValueInfo(String name, List<Object> shape) {
    }

    /** What the check found: the main graph's inputs and outputs. */
    public record Result(Map<String, ValueInfo> inputs, Map<String, ValueInfo> outputs) {
    }

    private enum Msg { MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, SPARSE_TENSOR, FUNCTION, TRAINING, VALUE_INFO, TYPE,
        TENSOR_TYPE, SHAPE, DIM, OTHER }

    private final Reader in;
    private final Map<String, ValueInfo> inputs = new LinkedHashMap<>();
    private final Map<String, ValueInfo> outputs = new LinkedHashMap<>();
    private boolean hasGraph;
    private String where;

    private OnnxCheck(InputStream in) {
        this.in = new Reader(in);
    }

    /** Checks the ONNX file; a refusal is a {@link ModelException} with code {@code model.onnx_external_data}. */
    public static Result check(Path file, String name) throws IOException, ModelException {
        try (InputStream s = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return check(s, Files.size(file), name);
        }
    }

    static Result check(InputStream s, long size, String name) throws IOException, ModelException {
        OnnxCheck c = new OnnxCheck(s);
        c.where = name;
        try {
            c.message(Msg.MODEL, size, 0, false);
        } catch (Malformed e) {
            throw ModelException.refused("model.onnx_invalid", name + " is not a readable ONNX model: "
                    + e.getMessage());
        }
        if (!c.hasGraph) {
            throw ModelException.refused("model.onnx_invalid", name + " is not an ONNX model: it has no graph");
        }
        return new Result(Map.copyOf(c.inputs), Map.copyOf(c.outputs));
    }

    private static final class Malformed extends Exception {
        Malformed(String m) {
            super(m);
        }
    }

    /** Parses one message of {@code length} bytes; returns collected info for value-info messages. */
    private Object message(Msg type, long length, int depth, boolean mainGraph)
            throws IOException, Malformed, ModelException {
        if (depth > MAX_DEPTH) {
            throw new Malformed("messages nested deeper than " + MAX_DEPTH);
        }
        long end = in.position + length;
        String name = null;
        Object valueType = null;
        List<Object> dims = new ArrayList<>();
        Object dim = null;
        while (in.position < end) {
            long key = in.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 0) {
                throw new Malformed("field number 0 at byte " + in.position);
            }
            if (wire == 2) {
                long len = in.varint();
                if (len < 0 || in.position + len > end) {
                    throw new Malformed("a field runs past its message at byte " + in.position);
                }
                Msg child = child(type, field);
                if (child != null) {
                    Object r = message(child, len, depth + 1, type == Msg.MODEL && field == 7);
                    if (type == Msg.MODEL && field == 7) {
                        hasGraph = true;
                    }
                    if (mainGraph && (field == 11 || field == 12) && r instanceof ValueInfo v) {
                        (field == 11 ? inputs : outputs).put(v.name(), v);
                    }
                    if (type == Msg.VALUE_INFO && field == 2) {
                        valueType = r;
                    } else if (type == Msg.TYPE && field == 1) {
                        valueType = r;
                    } else if (type == Msg.TENSOR_TYPE && field == 2) {
                        valueType = r;
                    } else if (type == Msg.SHAPE && field == 1) {
                        dims.add(r);
                    }
                } else if ((type == Msg.VALUE_INFO && field == 1) || (type == Msg.DIM && field == 2)) {
                    String s = in.string((int) Math.min(len, 1 << 16), len);
                    if (type == Msg.VALUE_INFO) {
                        name = s;
                    } else {
                        dim = s;
                    }
                } else if (type == Msg.TENSOR && field == 13) {
                    throw external();
                } else {
                    in.skip(len);
                }
            } else if (wire == 0) {
                long v = in.varint();
                if (type == Msg.TENSOR && field == 14 && v == 1) {
                    throw external();
                }
                if (type == Msg.DIM && field == 1) {
                    dim = v;
                }
            } else if (wire == 1) {
                in.skip(8);
            } else if (wire == 5) {
                in.skip(4);
            } else {
                throw new Malformed("unsupported wire type " + wire + " at byte " + in.position);
            }
        }
        if (in.position != end) {
            throw new Malformed("a message ends inside a field");
        }
        return switch (type) {
            case VALUE_INFO -> new ValueInfo(name == null ? "" : name,
                    valueType instanceof List<?> l ? List.copyOf(nullSafe(l)) : null);
            case TYPE, TENSOR_TYPE -> valueType;
            case SHAPE -> dims;
            case DIM -> dim == null ? DYNAMIC : dim;
            default -> null;
        };
    }

    /** Marker for a dimension with neither value nor parameter. */
    static final String DYNAMIC = "?";

    private static List<Object> nullSafe(List<?> l) {
        return new ArrayList<>(l);
    }

    private ModelException external() {
        return ModelException.refused("model.onnx_external_data", where + " references external data files; "
                + "models must be self-contained (save with onnx.save_model(..., save_as_external_data=False))");
    }

    /** The sub-messages that are parsed, by parent type and field number (onnx.proto3). */
    private static Msg child(Msg parent, int field) {
        return switch (parent) {
            case MODEL -> field == 7 ? Msg.GRAPH : field == 25 ? Msg.FUNCTION : field == 20 ? Msg.TRAINING : null;
            case GRAPH -> switch (field) {
                case 1 -> Msg.NODE;
                case 5 -> Msg.TENSOR;
                case 15 -> Msg.SPARSE_TENSOR;
                case 11, 12 -> Msg.VALUE_INFO;
                default -> null;
            };
            case NODE -> field == 5 ? Msg.ATTRIBUTE : null;
            case ATTRIBUTE -> switch (field) {
                case 5, 10 -> Msg.TENSOR;
                case 6, 11 -> Msg.GRAPH;
                case 22, 23 -> Msg.SPARSE_TENSOR;
                default -> null;
            };
            case FUNCTION -> field == 7 ? Msg.NODE : field == 11 ? Msg.ATTRIBUTE : null;
            case TRAINING -> field == 1 || field == 2 ? Msg.GRAPH : null;
            case SPARSE_TENSOR -> field == 1 || field == 2 ? Msg.TENSOR : null;
            case VALUE_INFO -> field == 2 ? Msg.TYPE : null;
            case TYPE -> field == 1 ? Msg.TENSOR_TYPE : null;
            case TENSOR_TYPE -> field == 2 ? Msg.SHAPE : null;
            case SHAPE -> field == 1 ? Msg.DIM : null;
            default -> null;
        };
    }

    /** A protobuf byte reader that tracks its position and skips without reading where it can. */
    private static final class Reader {
        private final InputStream in;
        long position;

        Reader(InputStream in) {
            this.in = in;
        }

        int read() throws IOException, Malformed {
            int b = in.read();
            if (b < 0) {
                throw new Malformed("the file ends inside a message");
            }
            position++;
            return b;
        }

        long varint() throws IOException, Malformed {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = read();
                result |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return result;
                }
            }
            throw new Malformed("varint longer than 10 bytes at byte " + position);
        }

        void skip(long n) throws IOException, Malformed {
            long left = n;
            while (left > 0) {
                long s = in.skip(left);
                if (s <= 0) {
                    if (in.read() < 0) {
                        throw new Malformed("the file ends inside a field");
                    }
                    s = 1;
                }
                left -= s;
            }
            position += n;
        }

        String string(int keep, long len) throws IOException, Malformed {
            byte[] b = in.readNBytes(keep);
            if (b.length < keep) {
                throw new Malformed("the file ends inside a string");
            }
            position += keep;
            skip(len - keep);
            return new String(b, StandardCharsets.UTF_8);
        }
    }
}
