package io.vladapt.api;

import java.util.List;

/** Where stop strings cut generated text, and how much text to hold back while one may be starting. */
final class StopStrings {
    private StopStrings() {}

    /** Index of the earliest stop string in text, or -1. */
    static int firstMatch(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Length of the longest end of text that begins some stop string (not streamed until it is decided). */
    static int heldBack(String text, List<String> stops) {
        int hold = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > hold; n--) {
                if (text.endsWith(s.substring(0, n))) {
                    hold = n;
                    break;
                }
            }
        }
        return hold;
    }
}
