package io.vladapt.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's {@code str.split()} and {@code str.strip()} (no arguments). The published scorers split and strip
 * with Python's notion of whitespace, which is wider than Java's {@code \s} and {@code String.strip()}
 * (it includes U+00A0, U+2007, U+202F and U+0085); using Java's would change scores on such text.
 */
final class PyText {
    private PyText() {}

    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (isSpace(cp)) {
                if (start >= 0) out.add(s.substring(start, i));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) out.add(s.substring(start));
        return out;
    }

    static String strip(String s) {
        int b = 0, e = s.length();
        while (b < e && isSpace(s.codePointAt(b))) b += Character.charCount(s.codePointAt(b));
        while (e > b && isSpace(s.codePointBefore(e))) e -= Character.charCount(s.codePointBefore(e));
        return s.substring(b, e);
    }
}
