package io.vladapt.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The preprocessing the COCO caption evaluation (pycocoevalcap's {@code tokenizer/ptbtokenizer.py}) applies to
 * references and hypotheses before CIDEr: Stanford CoreNLP 3.4.1's PTBTokenizer with {@code -preserveLines
 * -lowerCase}, then removal of the tokens in its PUNCTUATIONS list. This is a Java approximation for ordinary
 * English captions, not a port of the Stanford lexer.
 *
 * <p>What it does the way PTBTokenizer does: lower-cases (Locale.ENGLISH, as Stanford); splits off
 * punctuation, brackets and quotes; keeps hyphenated words ("black-and-white"), decimals and grouped numbers
 * ("3.5", "1,000", "10:30") and dotted acronyms ("u.s.") whole; splits clitics the Treebank way: "don't" →
 * "do n't", "can't" → "ca n't", "dog's" → "dog 's", "they're" → "they 're"; turns "..." into one token and
 * dash runs into "--". Brackets stay in the output as -lrb- (for "(", "[" and "<"), -rrb- (")", "]", ">"),
 * -lcb- and -rcb- ("{", "}"): Stanford's lexer escapes them as -LRB- etc. and then lower-cases the token,
 * while the PUNCTUATIONS list only holds the upper-case names, so the published pipeline keeps them too.
 *
 * <p>Known differences from PTBTokenizer 3.4.1: no Americanization (it rewrites "colour" as "color" and other
 * British spellings by default); no escaping of "/" and "*" (it writes "\/" and "\*"); a fixed short list of
 * abbreviations that keep their period (mr, mrs, ms, dr, st, jr, sr, vs, etc) where Stanford has a larger one;
 * "cannot", "gonna" and similar stay one token; runs of "?" or "!" become one token per character; symbols
 * and emoji are kept as one-character tokens where Stanford may delete untokenizable characters; "'90s"
 * splits into "'" (dropped) and "90s".
 */
public final class CaptionTokenizer {
    /** pycocoevalcap's PUNCTUATIONS, verbatim; the upper-case bracket names never match lower-cased output. */
    static final Set<String> DROPPED = Set.of("''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
            ".", "?", "!", ",", ":", "-", "--", "...", ";");
    private static final Set<String> CLITICS = Set.of("s", "re", "ve", "m", "ll", "d");
    private static final Set<String> ABBREVIATIONS = Set.of("mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc");
    private static final Pattern ACRONYM = Pattern.compile("(\\p{L}\\.)+\\p{L}");

    private CaptionTokenizer() {}

    /** The caption as the scorer sees it: kept tokens joined by single spaces ("" when nothing is left). */
    public static String tokenize(String caption) {
        return String.join(" ", tokens(caption));
    }

    /** The kept tokens, in order. */
    public static List<String> tokens(String caption) {
        List<String> out = new ArrayList<>();
        for (String t : ptbTokens(caption)) if (!DROPPED.contains(t)) out.add(t);
        return out;
    }

    /** All tokens before the punctuation filter (lower-cased PTB-style tokens). */
    static List<String> ptbTokens(String caption) {
        String s = caption.toLowerCase(Locale.ENGLISH);
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            if (PyText.isSpace(c)) {
                i += Character.charCount(c);
            } else if (Character.isLetterOrDigit(c)) {
                i = word(s, i, out);
            } else {
                i = symbol(s, i, out);
            }
        }
        return out;
    }

    /** A word with its internal hyphens, apostrophes, and digit separators; then clitics split off. */
    private static int word(String s, int i, List<String> out) {
        int j = i;
        while (j < s.length()) {
            int c = s.codePointAt(j);
            if (Character.isLetterOrDigit(c) || Character.getType(c) == Character.NON_SPACING_MARK) {
                j += Character.charCount(c);
                continue;
            }
            int next = j + 1 < s.length() ? s.codePointAt(j + 1) : -1;
            int prev = s.codePointBefore(j);
            boolean joins = switch (c) {
                case '-', '.' -> next >= 0 && Character.isLetterOrDigit(next);
                case '\'', '\u2019' -> next >= 0 && Character.isLetter(next);
                case ',', ':', '/' -> Character.isDigit(prev) && next >= 0 && Character.isDigit(next);
                case '&' -> Character.isLetter(prev) && next >= 0 && Character.isLetter(next);
                default -> false;
            };
            if (!joins) break;
            j++;
        }
        String w = s.substring(i, j).replace('\u2019', '\'');
        if (j < s.length() && s.charAt(j) == '.' && (ABBREVIATIONS.contains(w) || ACRONYM.matcher(w).matches())) {
            w += ".";
            j++;
        }
        splitClitic(w, out);
        return j;
    }

    private static void splitClitic(String w, List<String> out) {
        if (w.endsWith("n't") && w.length() > 3) {
            out.add(w.substring(0, w.length() - 3));
            out.add("n't");
            return;
        }
        int a = w.lastIndexOf('\'');
        if (a > 0 && CLITICS.contains(w.substring(a + 1))) {
            out.add(w.substring(0, a));
            out.add(w.substring(a));
            return;
        }
        out.add(w);
    }

    /** One punctuation or symbol token starting at i (PTB's escaped forms for brackets and quotes). */
    private static int symbol(String s, int i, List<String> out) {
        int c = s.codePointAt(i);
        int n = Character.charCount(c);
        switch (c) {
            case '\'', '\u2019' -> {
                int e = i + 1;
                while (e < s.length() && Character.isLetter(s.charAt(e))) e++;
                boolean bounded = e == s.length() || !Character.isLetterOrDigit(s.codePointAt(e));
                if (e > i + 1 && bounded && CLITICS.contains(s.substring(i + 1, e))) {
                    out.add("'" + s.substring(i + 1, e)); // a detached clitic: "dog 's"
                    return e;
                }
                out.add("'");
            }
            case '"' -> out.add(i == 0 || PyText.isSpace(s.codePointBefore(i)) || "([{".indexOf(s.charAt(i - 1)) >= 0 ? "``" : "''");
            case '\u201c' -> out.add("``");
            case '\u201d' -> out.add("''");
            case '`', '\u2018' -> out.add("`");
            case '(', '[', '<' -> out.add("-lrb-");
            case ')', ']', '>' -> out.add("-rrb-");
            case '{' -> out.add("-lcb-");
            case '}' -> out.add("-rcb-");
            case '\u2026' -> out.add("...");
            case '\u2013', '\u2014' -> out.add("--");
            case '.', '-' -> {
                int e = i;
                while (e < s.length() && s.charAt(e) == c) e++;
                out.add(e - i == 1 ? String.valueOf((char) c) : c == '.' ? "..." : "--");
                return e;
            }
            default -> out.add(new String(Character.toChars(c)));
        }
        return i + n;
    }
}
