package io.vladapt.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the pickle that torch.save writes into data.pkl, as plain Java values, and never executes
 * anything: only the opcodes a tensor checkpoint uses are understood, and a global is accepted only
 * if it is on a short list of constructors VLAdapt re-implements (OrderedDict, the tensor and
 * parameter rebuilders, the storage types, argparse.Namespace as a plain record). Anything else is
 * refused with the opcode or global named.
 *
 * <p>Values: dict/OrderedDict -> LinkedHashMap, list -> ArrayList, tuple -> {@link Tuple}, int ->
 * Long (or BigInteger-free long; larger values are refused), float -> Double, str -> String,
 * bool -> Boolean, None -> null, tensors -> {@link TensorRef}.
 */
final class TorchUnpickler {
    /** A Python tuple. */
    record Tuple(List<Object> items) {}

    /** A class or function reference ("module.name") met as a GLOBAL. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A typed storage in the archive: data/KEY holding numel elements of dtype. */
    record StorageRef(DType dtype, String key, String location, long numel) {}

    /** A tensor as torch rebuilds it: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** An allowed plain object (argparse.Namespace): its class and the attributes BUILD gave it. */
    record PlainObject(Global type, Map<Object, Object> attributes) {}

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", DType.F32), Map.entry("DoubleStorage", DType.F64),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));
    private static final Set<String> CALLABLES = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.device",
            "torch.Size", "argparse.Namespace");

    private final String where;
    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private TorchUnpickler(String where, byte[] data) {
        this.where = where;
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Unpickles data; {@code where} names the file for messages. */
    static Object load(String where, byte[] data) {
        return new TorchUnpickler(where, data).run();
    }

    private Object run() {
        while (true) {
            if (!in.hasRemaining()) throw bad("pickle ends without a STOP opcode (truncated?)");
            int pos = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80: in.get(); break;                                   // PROTO n
                case 0x95: in.getLong(); break;                               // FRAME len
                case '.': return pop();                                       // STOP
                case '(': marks.add(stack.size()); break;                     // MARK
                case '}': push(new LinkedHashMap<>()); break;                 // EMPTY_DICT
                case ']': push(new ArrayList<>()); break;                     // EMPTY_LIST
                case ')': push(new Tuple(List.of())); break;                  // EMPTY_TUPLE
                case 't': push(new Tuple(popMark())); break;                  // TUPLE
                case 0x85: push(new Tuple(List.of(pop()))); break;            // TUPLE1
                case 0x86: { Object b = pop(), a = pop(); push(new Tuple(List.of(a, b))); break; }
                case 0x87: { Object c = pop(), b = pop(), a = pop(); push(new Tuple(List.of(a, b, c))); break; }
                case 's': { Object v = pop(), k = pop(); dict(peek(), pos).put(k, v); break; }   // SETITEM
                case 'u': {                                                   // SETITEMS
                    List<Object> kv = popMark();
                    Map<Object, Object> d = dict(peek(), pos);
                    for (int i = 0; i + 1 < kv.size(); i += 2) d.put(kv.get(i), kv.get(i + 1));
                    break;
                }
                case 'a': { Object v = pop(); list(peek(), pos).add(v); break; }                 // APPEND
                case 'e': { List<Object> vs = popMark(); list(peek(), pos).addAll(vs); break; }  // APPENDS
                case 'q': memo.put((long) (in.get() & 0xff), peek()); break;                    // BINPUT
                case 'r': memo.put(in.getInt() & 0xffffffffL, peek()); break;                    // LONG_BINPUT
                case 0x94: memo.put((long) memo.size(), peek()); break;                          // MEMOIZE
                case 'h': push(memo(in.get() & 0xff, pos)); break;                              // BINGET
                case 'j': push(memo(in.getInt() & 0xffffffffL, pos)); break;                    // LONG_BINGET
                case 'c': push(global(line(), line(), pos)); break;                             // GLOBAL
                case 0x93: { String name = str(pop(), pos), module = str(pop(), pos); push(global(module, name, pos)); break; }
                case 'R': { Object args = pop(), fn = pop(); push(call(fn, args, pos)); break; } // REDUCE
                case 0x81: { Object args = pop(), cls = pop(); push(call(cls, args, pos)); break; } // NEWOBJ
                case 'b': { Object state = pop(); build(peek(), state, pos); break; }             // BUILD
                case 'Q': push(persistent(pop(), pos)); break;                                   // BINPERSID
                case 'J': push((long) in.getInt()); break;                                       // BININT
                case 'K': push((long) (in.get() & 0xff)); break;                                 // BININT1
                case 'M': push((long) (in.getShort() & 0xffff)); break;                          // BININT2
                case 0x8a: push(long1(pos)); break;                                              // LONG1
                case 'G': push(in.order(ByteOrder.BIG_ENDIAN).getDouble()); in.order(ByteOrder.LITTLE_ENDIAN); break;
                case 0x88: push(Boolean.TRUE); break;                                            // NEWTRUE
                case 0x89: push(Boolean.FALSE); break;                                           // NEWFALSE
                case 'N': push(null); break;                                                     // NONE
                case 'X': push(utf8(in.getInt() & 0xffffffffL, pos)); break;                     // BINUNICODE
                case 0x8c: push(utf8(in.get() & 0xff, pos)); break;                              // SHORT_BINUNICODE
                case 0x8d: push(utf8(in.getLong(), pos)); break;                                 // BINUNICODE8
                case 'B': push(bytes(in.getInt() & 0xffffffffL, pos)); break;                    // BINBYTES
                case 'C': push(bytes(in.get() & 0xff, pos)); break;                              // SHORT_BINBYTES
                default:
                    throw bad(String.format("pickle opcode 0x%02x%s at byte %d is outside the subset torch.save uses; "
                            + "refusing to read it", op, op >= 0x20 && op < 0x7f ? " ('" + (char) op + "')" : "", pos));
            }
        }
    }

    private Object global(String module, String name, int pos) {
        Global g = new Global(module, name);
        String full = g.toString();
        if (module.equals("torch") && STORAGES.containsKey(name)) return g;
        if (CALLABLES.contains(full)) return g;
        throw bad("pickle refers to " + full + " (byte " + pos + "), which is not a tensor-checkpoint global; "
                + "refusing to read it, since unpickling it could run code");
    }

    private Object call(Object fn, Object args, int pos) {
        if (!(fn instanceof Global g)) throw bad("REDUCE on a non-callable at byte " + pos);
        List<Object> a = args instanceof Tuple t ? t.items() : null;
        if (a == null) throw bad("REDUCE arguments are not a tuple at byte " + pos);
        switch (g.toString()) {
            case "collections.OrderedDict":
                return new LinkedHashMap<>();
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor": {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s)) throw bad(g + " with unexpected arguments at byte " + pos);
                return new TensorRef(s, asLong(a.get(1), pos), longs(a.get(2), pos), longs(a.get(3), pos));
            }
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef)) throw bad(g + " without a tensor at byte " + pos);
                return a.get(0);
            case "torch.device":
                return a.isEmpty() ? "cpu" : String.valueOf(a.get(0));
            case "torch.Size":
                return a.isEmpty() ? new Tuple(List.of()) : a.get(0);
            case "argparse.Namespace":
                return new PlainObject(g, new LinkedHashMap<>());
            default:
                throw bad(g + " cannot be called (byte " + pos + ")");
        }
    }

    private void build(Object target, Object state, int pos) {
        if (target instanceof PlainObject o && state instanceof Map<?, ?> m) {
            m.forEach(o.attributes()::put);
        } else if (target instanceof Map<?, ?> && (state == null || state instanceof Map<?, ?> sm && sm.isEmpty())) {
            return;  // OrderedDict with no extra attributes
        } else if (target instanceof TensorRef) {
            return;  // tensor state (e.g. backward hooks) carries nothing we need
        } else {
            throw bad("BUILD on " + describe(target) + " at byte " + pos + " is not supported");
        }
    }

    private Object persistent(Object pid, int pos) {
        if (!(pid instanceof Tuple t) || t.items().size() < 5 || !"storage".equals(t.items().get(0))) {
            throw bad("persistent id at byte " + pos + " is not a ('storage', type, key, location, numel) tuple");
        }
        List<Object> p = t.items();
        if (!(p.get(1) instanceof Global type) || !STORAGES.containsKey(type.name())) {
            throw bad("storage of unknown type " + p.get(1) + " at byte " + pos);
        }
        return new StorageRef(STORAGES.get(type.name()), str(p.get(2), pos), String.valueOf(p.get(3)), asLong(p.get(4), pos));
    }

    // ---------------------------------------------------------------- stack helpers
    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
            throw bad("pickle stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.isEmpty()) throw bad("pickle stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("pickle pops a MARK it never set");
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    private Object memo(long key, int pos) {
        if (!memo.containsKey(key)) throw bad("pickle reads memo " + key + " before writing it (byte " + pos + ")");
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int pos) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad("SETITEM on " + describe(o) + " at byte " + pos);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int pos) {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw bad("APPEND on " + describe(o) + " at byte " + pos);
    }

    private String line() {
        StringBuilder s = new StringBuilder();
        while (true) {
            if (!in.hasRemaining()) throw bad("pickle ends inside a GLOBAL name");
            char c = (char) (in.get() & 0xff);
            if (c == '\n') return s.toString();
            s.append(c);
        }
    }

    private String utf8(long n, int pos) {
        return new String(bytes(n, pos), StandardCharsets.UTF_8);
    }

    private byte[] bytes(long n, int pos) {
        if (n < 0 || n > in.remaining()) throw bad("string at byte " + pos + " runs past the end of the pickle");
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private Object long1(int pos) {
        int n = in.get() & 0xff;
        if (n > 8) throw bad("integer of " + n + " bytes at byte " + pos + " does not fit 64 bits");
        byte[] b = bytes(n, pos);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xff);
        if (n > 0 && n < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n);  // two's complement sign
        return v;
    }

    private String str(Object o, int pos) {
        if (o instanceof String s) return s;
        throw bad("expected a string at byte " + pos + ", got " + describe(o));
    }

    private long asLong(Object o, int pos) {
        if (o instanceof Long l) return l;
        throw bad("expected an integer at byte " + pos + ", got " + describe(o));
    }

    private long[] longs(Object o, int pos) {
        if (!(o instanceof Tuple t)) throw bad("expected a tuple of integers at byte " + pos + ", got " + describe(o));
        long[] out = new long[t.items().size()];
        for (int i = 0; i < out.length; i++) out[i] = asLong(t.items().get(i), pos);
        return out;
    }

    private static String describe(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    private FormatException bad(String message) {
        return new FormatException(where + ": " + message);
    }
}
