package io.vladapt.data;

import java.util.List;
import java.util.Random;

/** Small English helpers shared by the synthetic captions and questions. */
final class SceneWords {
    static final List<String> NUMBERS = List.of("zero", "one", "two", "three", "four", "five");

    private SceneWords() {}

    /** "a", "a and b", "a, b and c". */
    static String list(List<String> parts) {
        if (parts.size() == 1) return parts.get(0);
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }

    /** "a" or "an" for the word that follows (the words here have no silent letters). */
    static String article(String word) {
        return "aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an" : "a";
    }

    static String withArticle(String phrase) {
        return article(phrase) + " " + phrase;
    }

    static String plural(String noun) {
        return noun.endsWith("x") ? noun + "es" : noun + "s";
    }

    static String number(int n) {
        return NUMBERS.get(n);
    }

    static <T> T pick(List<T> options, Random rnd) {
        return options.get(rnd.nextInt(options.size()));
    }

    /** The first option most of the time, another one with probability p (a synonym, a variant). */
    static String mostly(List<String> options, double p, Random rnd) {
        return options.size() > 1 && rnd.nextDouble() < p ? options.get(1 + rnd.nextInt(options.size() - 1)) : options.get(0);
    }
}
