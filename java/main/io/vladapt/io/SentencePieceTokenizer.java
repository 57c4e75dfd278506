package io.vladapt.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Meta's SentencePiece tokenizer.model (LLaMA 1/2, Vicuna): a small reader of the ModelProto and
 * SentencePiece's BPE encoding. The model's normaliser must be "identity" (LLaMA's; the NFKC
 * variants need a compiled character map VLAdapt does not implement, and are refused).
 *
 * <p>Encoding: spaces become U+2581, a dummy prefix is added, the text is split into characters,
 * then the adjacent pair whose merged piece has the highest score is merged first (leftmost on
 * ties) until no merge is in the vocabulary. A piece outside the vocabulary becomes its UTF-8 bytes
 * as {@code <0xNN>} pieces when the model has byte fallback, else {@code <unk>}.
 */
public final class SentencePieceTokenizer implements TextTokenizer {
    enum Type { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    private static final char SPACE = '\u2581';

    private final Path path;
    private final String[] pieces;
    private final float[] scores;
    private final Type[] types;
    private final Map<String, Integer> mergeable = new HashMap<>();  // NORMAL, USER_DEFINED, UNUSED pieces
    private final int[] byteIds = new int[256];
    private final boolean byteFallback, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces;
    private final int unkId, bosId, eosId, padId;

    private SentencePieceTokenizer(Path path, List<String> pieces, List<Float> scores, List<Type> types,
                                   boolean byteFallback, boolean addDummyPrefix, boolean removeExtra, boolean escape,
                                   int unk, int bos, int eos, int pad) {
        this.path = path;
        this.pieces = pieces.toArray(new String[0]);
        this.scores = new float[scores.size()];
        for (int i = 0; i < this.scores.length; i++) this.scores[i] = scores.get(i);
        this.types = types.toArray(new Type[0]);
        java.util.Arrays.fill(byteIds, -1);
        for (int i = 0; i < this.pieces.length; i++) {
            Type t = this.types[i];
            if (t == Type.NORMAL || t == Type.USER_DEFINED || t == Type.UNUSED) mergeable.putIfAbsent(this.pieces[i], i);
            if (t == Type.BYTE) {
                String p = this.pieces[i];
                if (!p.matches("<0x[0-9A-Fa-f]{2}>")) throw new FormatException(path + ": byte piece '" + p + "' is malformed");
                byteIds[Integer.parseInt(p.substring(3, 5), 16)] = i;
            }
        }
        this.byteFallback = byteFallback;
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtra;
        this.escapeWhitespaces = escape;
        this.unkId = unk;
        this.bosId = bos;
        this.eosId = eos;
        this.padId = pad;
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) throw new FormatException(path + ": byte fallback is on but piece <0x" + hex(b) + "> is missing");
            }
        }
    }

    public static SentencePieceTokenizer load(Path path) {
        byte[] data;
        try {
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new FormatException("cannot read " + path, e);
        }
        try {
            return parse(path, ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN));
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new FormatException(path + ": truncated or not a SentencePiece model", e);
        }
    }

    // ---------------------------------------------------------------- protobuf wire format
    private static SentencePieceTokenizer parse(Path path, ByteBuffer in) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Type> types = new ArrayList<>();
        int modelType = 1, unk = 0, bos = 1, eos = 2, pad = -1;
        boolean byteFallback = false, dummy = true, removeExtra = true, escape = true;
        String normalizer = "identity";
        boolean charsMap = false;
        while (in.hasRemaining()) {
            long key = varint(in);
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            if (field == 1 && wire == 2) {                               // pieces
                ByteBuffer m = sub(in);
                String piece = "";
                float score = 0;
                int type = 1;
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 1 && w == 2) piece = utf8(sub(m));
                    else if (f == 2 && w == 5) score = m.getFloat();
                    else if (f == 3 && w == 0) type = (int) varint(m);
                    else skip(m, w);
                }
                if (type < 1 || type > 6) throw new FormatException(path + ": piece '" + piece + "' has unknown type " + type);
                pieces.add(piece);
                scores.add(score);
                types.add(Type.values()[type - 1]);
            } else if (field == 2 && wire == 2) {                        // trainer_spec
                ByteBuffer m = sub(in);
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (w == 0 && (f == 3 || f == 35 || f == 40 || f == 41 || f == 42 || f == 43)) {
                        long v = varint(m);
                        switch (f) {
                            case 3: modelType = (int) v; break;
                            case 35: byteFallback = v != 0; break;
                            case 40: unk = (int) v; break;
                            case 41: bos = (int) v; break;
                            case 42: eos = (int) v; break;
                            default: pad = (int) v; break;
                        }
                    } else {
                        skip(m, w);
                    }
                }
            } else if (field == 3 && wire == 2) {                        // normalizer_spec
                ByteBuffer m = sub(in);
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3), w = (int) (k & 7);
                    if (f == 1 && w == 2) normalizer = utf8(sub(m));
                    else if (f == 2 && w == 2) charsMap = sub(m).hasRemaining();
                    else if (f == 3 && w == 0) dummy = varint(m) != 0;
                    else if (f == 4 && w == 0) removeExtra = varint(m) != 0;
                    else if (f == 5 && w == 0) escape = varint(m) != 0;
                    else skip(m, w);
                }
            } else {
                skip(in, wire);
            }
        }
        if (pieces.isEmpty()) throw new FormatException(path + ": no pieces (not a SentencePiece model?)");
        if (modelType != 2) {
            throw new FormatException(path + ": model type " + modelType + " (" + (modelType == 1 ? "unigram" : "word/char")
                    + "); only BPE models (LLaMA's) are read");
        }
        if (charsMap || !normalizer.equals("identity")) {
            throw new FormatException(path + ": normaliser '" + normalizer + "' needs a compiled character map; only "
                    + "'identity' (LLaMA's) is supported");
        }
        return new SentencePieceTokenizer(path, pieces, scores, types, byteFallback, dummy, removeExtra, escape, unk, bos,
                eos, pad);
    }

    private static long varint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw new FormatException("varint longer than 10 bytes");
    }

    private static ByteBuffer sub(ByteBuffer in) {
        int n = (int) varint(in);
        if (n < 0 || n > in.remaining()) throw new IndexOutOfBoundsException("field runs past the end");
        ByteBuffer s = in.slice(in.position(), n).order(ByteOrder.LITTLE_ENDIAN);
        in.position(in.position() + n);
        return s;
    }

    private static void skip(ByteBuffer in, int wire) {
        switch (wire) {
            case 0: varint(in); break;
            case 1: in.position(in.position() + 8); break;
            case 2: sub(in); break;
            case 5: in.position(in.position() + 4); break;
            default: throw new FormatException("protobuf wire type " + wire + " is not used by SentencePiece models");
        }
    }

    private static String utf8(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- encoding
    @Override
    public long[] encode(String text, boolean addBos) {
        return encodeWithSpans(text, addBos).ids();
    }

    @Override
    public TokenSpans encodeWithSpans(String text, boolean addBos) {
        Normalized norm = normalize(text);
        Emitted out = new Emitted();
        if (addBos && bosId >= 0) out.add(bosId, 0, 0);
        int cp = 0;                                   // code point of the normalised text where the piece starts
        if (!norm.text().isEmpty()) {
            for (String piece : bpe(norm.text())) {
                int len = piece.codePointCount(0, piece.length());
                emit(piece, cp, len, norm, out);
                cp += len;
            }
        }
        return out.spans();
    }

    /**
     * The normalised text, and for each of its code points the range of the input it came from:
     * the dummy prefix comes from nowhere (an empty range before the first character), a space that
     * stands for a collapsed run covers the whole run.
     */
    private record Normalized(String text, int[] from, int[] to) {}

    private Normalized normalize(String text) {
        int begin = 0, end = text.length();
        if (removeExtraWhitespaces) {                 // as String.strip(): leading and trailing whitespace of any kind
            while (begin < end && Character.isWhitespace(text.codePointAt(begin))) begin += Character.charCount(text.codePointAt(begin));
            while (end > begin && Character.isWhitespace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
        }
        StringBuilder out = new StringBuilder();
        int[] from = new int[end - begin + 1], to = new int[end - begin + 1];
        int n = 0;
        if (begin < end && addDummyPrefix) {
            out.append(escapeWhitespaces ? SPACE : ' ');
            from[n] = to[n] = begin;
            n++;
        }
        for (int i = begin; i < end; ) {
            int c = text.codePointAt(i), next = i + Character.charCount(c);
            if (c == ' ' && removeExtraWhitespaces && n > 0 && from[n - 1] < to[n - 1] && text.charAt(to[n - 1] - 1) == ' ') {
                to[n - 1] = next;                     // the run collapses into the space before it
            } else {
                out.appendCodePoint(c == ' ' && escapeWhitespaces ? SPACE : c);
                from[n] = i;
                to[n] = next;
                n++;
            }
            i = next;
        }
        return new Normalized(out.toString(), from, to);
    }

    /** Ids and spans as they are produced. */
    private static final class Emitted {
        private final List<long[]> rows = new ArrayList<>();

        void add(long id, int start, int end) {
            rows.add(new long[] {id, start, end});
        }

        TokenSpans spans() {
            int n = rows.size();
            long[] ids = new long[n];
            int[] starts = new int[n], ends = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = rows.get(i)[0];
                starts[i] = (int) rows.get(i)[1];
                ends[i] = (int) rows.get(i)[2];
            }
            return new TokenSpans(ids, starts, ends);
        }
    }

    /** Symbol pairs ordered as SentencePiece's agenda: higher score first, then the leftmost. */
    private record Pair(int left, int right, float score, int size) {}

    private List<String> bpe(String text) {
        // symbols: one per code point, in a doubly linked list
        int[] cps = text.codePoints().toArray();
        int n = cps.length;
        String[] sym = new String[n];
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = new String(cps, i, 1);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Pair> agenda = new PriorityQueue<>((a, b) ->
                a.score() != b.score() ? Float.compare(b.score(), a.score()) : Integer.compare(a.left(), b.left()));
        for (int i = 0; i + 1 < n; i++) maybeAdd(agenda, sym, i, i + 1);
        while (!agenda.isEmpty()) {
            Pair p = agenda.poll();
            if (sym[p.left()] == null || sym[p.right()] == null
                    || sym[p.left()].length() + sym[p.right()].length() != p.size()) {
                continue;  // a symbol of this pair was merged away since the pair was queued
            }
            sym[p.left()] = sym[p.left()] + sym[p.right()];
            sym[p.right()] = null;
            int after = next[p.right()];
            next[p.left()] = after;
            if (after >= 0) prev[after] = p.left();
            if (prev[p.left()] >= 0) maybeAdd(agenda, sym, prev[p.left()], p.left());
            if (after >= 0) maybeAdd(agenda, sym, p.left(), after);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i >= 0 && i < n; i = next[i]) out.add(sym[i]);
        return out;
    }

    private void maybeAdd(PriorityQueue<Pair> agenda, String[] sym, int left, int right) {
        String merged = sym[left] + sym[right];
        Integer id = mergeable.get(merged);
        if (id != null) agenda.add(new Pair(left, right, scores[id], merged.length()));
    }

    /** A piece of len code points starting at code point cp: its id, its UTF-8 bytes' ids, or unk. */
    private void emit(String piece, int cp, int len, Normalized norm, Emitted out) {
        Integer id = mergeable.get(piece);
        if (id != null && types[id] != Type.UNUSED) {
            out.add(id, norm.from()[cp], norm.to()[cp + len - 1]);
        } else if (byteFallback) {
            int k = cp;                               // every byte of a character spans the whole character
            for (int i = 0; i < piece.length(); k++) {
                int c = piece.codePointAt(i), next = i + Character.charCount(c);
                for (byte b : piece.substring(i, next).getBytes(StandardCharsets.UTF_8)) out.add(byteIds[b & 0xff], norm.from()[k], norm.to()[k]);
                i = next;
            }
        } else {
            out.add(unkId, norm.from()[cp], norm.to()[cp + len - 1]);
        }
    }

    // ---------------------------------------------------------------- decoding
    @Override
    public String decode(long[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = true;
        for (long id : ids) {
            if (id < 0 || id >= pieces.length) throw new IllegalArgumentException(path + ": token id " + id + " out of range");
            Type t = types[(int) id];
            if (t == Type.CONTROL) continue;
            if (t == Type.BYTE) {
                bytes.write(Integer.parseInt(pieces[(int) id].substring(3, 5), 16));
                first = false;
                continue;
            }
            String p = t == Type.UNKNOWN ? " \u2047 " : pieces[(int) id];
            if (first && addDummyPrefix && p.startsWith(String.valueOf(SPACE))) p = p.substring(1);
            bytes.writeBytes(p.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8));
            first = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The piece string of an id (for inspection and tests). */
    public String piece(long id) {
        return pieces[(int) id];
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    public int unkId() {
        return unkId;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    private static String hex(int b) {
        return String.format("%02X", b);
    }

    @Override
    public void close() {
        // nothing native
    }
}
