package io.vladapt.data;

import static io.vladapt.data.SceneWords.mostly;
import static io.vladapt.data.SceneWords.pick;
import static io.vladapt.data.SceneWords.plural;

import io.vladapt.data.SyntheticScene.Obj;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * VQA-style questions about a synthetic scene, each with ten human-like answers: six to ten give the
 * canonical answer (which is therefore multiple_choice_answer), the others a synonym ("two" for "2",
 * "large" for "big", "upper left" or just "left" for "top left", "violet" for "purple") or a wrong
 * answer (a neighbouring count, another colour, the opposite of yes). Question types follow VQA's
 * question_type prefixes; answer types are VQA's "yes/no", "number", "other".
 */
public final class SceneQuestions {
    /** Every question_type this generator writes. */
    public static final List<String> QUESTION_TYPES = List.of("what color is the", "how many", "is there a", "what shape is",
            "where is the", "is the", "what size is the");

    /** A question with its type, canonical answer and the ten human answers. */
    public record Qa(String question, String questionType, String answerType, String answer, List<VqaDataset.Answer> answers) {}

    /** A question before its human answers: the right answer, its synonyms, and wrong answers people might give. */
    private record Asked(String question, String type, String answerType, String answer, List<String> synonyms, List<String> wrong) {}

    private SceneQuestions() {}

    /** Up to max questions of different types (those that make sense for the scene), in random order. */
    public static List<Qa> ask(SyntheticScene s, Random rnd, int max) {
        List<Asked> all = new ArrayList<>();
        for (String type : QUESTION_TYPES) {
            Asked a = ask(type, s, rnd);
            if (a != null) all.add(a);
        }
        Collections.shuffle(all, rnd);
        List<Qa> out = new ArrayList<>();
        for (Asked a : all.subList(0, Math.min(max, all.size()))) out.add(new Qa(a.question(), a.type(), a.answerType(), a.answer(), humans(a, rnd)));
        return out;
    }

    /** A question of the type about s, or null when s has nothing to ask it about. */
    private static Asked ask(String type, SyntheticScene s, Random rnd) {
        List<Obj> objs = s.objects();
        switch (type) {
            case "what color is the": {
                List<Obj> unique = objs.stream().filter(o -> s.withShape(o.shape()).size() == 1).toList();
                if (unique.isEmpty()) return null;
                Obj o = pick(unique, rnd);
                return other("what color is the " + o.shapeName() + "?", type, o.colorName(), colourSynonyms(o.colorName()),
                        SyntheticScienceQa.COLORS);
            }
            case "how many": {
                if (rnd.nextBoolean()) {
                    String q = mostly(List.of("how many shapes are there?", "how many shapes are in the picture?", "how many objects are there?"), 0.5, rnd);
                    return number(q, objs.size());
                }
                int shape = rnd.nextInt(SyntheticScienceQa.SHAPES.size());
                return number("how many " + plural(SyntheticScienceQa.SHAPES.get(shape)) + " are there?", s.withShape(shape).size());
            }
            case "is there a": {
                if (rnd.nextBoolean()) {                                   // yes: name an object, by shape or colour and shape
                    Obj o = pick(objs, rnd);
                    String what = rnd.nextBoolean() ? o.shapeName() : o.colorName() + " " + o.shapeName();
                    return yesNo("is there " + SceneWords.withArticle(what) + "?", type, true);
                }
                int shape = rnd.nextInt(SyntheticScienceQa.SHAPES.size()), color = rnd.nextInt(SyntheticScienceQa.COLORS.size());
                boolean byShape = s.withShape(shape).isEmpty() && rnd.nextBoolean();
                String what = byShape ? SyntheticScienceQa.SHAPES.get(shape) : SyntheticScienceQa.COLORS.get(color) + " " + SyntheticScienceQa.SHAPES.get(shape);
                boolean present = byShape ? false : objs.stream().anyMatch(o -> o.shape() == shape && o.color() == color);
                return yesNo("is there " + SceneWords.withArticle(what) + "?", type, present);
            }
            case "what shape is": {
                List<Obj> unique = objs.stream().filter(o -> s.withColor(o.color()).size() == 1).toList();
                if (unique.isEmpty()) return null;
                Obj o = pick(unique, rnd);
                String q = rnd.nextBoolean() ? "what shape is " + o.colorName() + "?" : "what shape is the " + o.colorName() + " object?";
                return other(q, type, o.shapeName(), List.of(shapeSynonym(o.shape())), SyntheticScienceQa.SHAPES);
            }
            case "where is the": {
                Obj o = pick(objs, rnd);
                return other("where is the " + ref(s, o) + "?", type, o.position(), positionSynonyms(o.position()), SyntheticScene.POSITIONS);
            }
            case "is the": {
                if (objs.size() < 2) return null;
                List<Obj> two = new ArrayList<>(objs);
                Collections.shuffle(two, rnd);
                Obj a = two.get(0), b = two.get(1);
                int rel = rnd.nextInt(4);
                String[] words = {"above", "below", "to the left of", "to the right of"};
                boolean yes = switch (rel) {
                    case 0 -> a.row() < b.row();
                    case 1 -> a.row() > b.row();
                    case 2 -> a.col() < b.col();
                    default -> a.col() > b.col();
                };
                return yesNo("is the " + ref(s, a) + " " + words[rel] + " the " + ref(s, b) + "?", type, yes);
            }
            default: {                                                     // what size is the
                Obj o = pick(objs, rnd);
                return other("what size is the " + ref(s, o) + "?", type, o.sizeName(), List.of(o.big() ? "large" : "little"),
                        List.of("big", "small"));
            }
        }
    }

    /** The object's shape when it is the only one of its shape, else colour and shape (always unique). */
    private static String ref(SyntheticScene s, Obj o) {
        return s.withShape(o.shape()).size() == 1 ? o.shapeName() : o.colorName() + " " + o.shapeName();
    }

    private static Asked other(String q, String type, String answer, List<String> synonyms, List<String> pool) {
        List<String> wrong = new ArrayList<>(pool);
        wrong.remove(answer);
        return new Asked(q, type, "other", answer, synonyms, wrong);
    }

    /** Counts are answered in digits, as VQA's answer normalisation writes them; "two" is a synonym. */
    private static Asked number(String q, int n) {
        List<String> wrong = new ArrayList<>(List.of(String.valueOf(n + 1)));
        if (n > 0) wrong.add(String.valueOf(n - 1));
        return new Asked(q, "how many", "number", String.valueOf(n), List.of(SceneWords.number(n)), wrong);
    }

    private static Asked yesNo(String q, String type, boolean yes) {
        return new Asked(q, type, "yes/no", yes ? "yes" : "no", List.of(), List.of(yes ? "no" : "yes"));
    }

    private static List<String> colourSynonyms(String colour) {
        return switch (colour) {
            case "purple" -> List.of("violet");
            case "yellow" -> List.of("gold");
            default -> List.of("dark " + colour, "light " + colour);
        };
    }

    private static String shapeSynonym(int shape) {
        return List.of("round", "rectangle", "triangular").get(shape);
    }

    /** "upper left", and the half-answers "left" and "top" people give for a corner. */
    private static List<String> positionSynonyms(String pos) {
        String[] rc = pos.split(" ");
        return List.of(pos.replace("top", "upper").replace("bottom", "lower"), rc[1], rc[0]);
    }

    /** Ten answers: 6-10 canonical, the rest a synonym (when there is one, 60%) or a wrong answer; answer_id 1-10. */
    private static List<VqaDataset.Answer> humans(Asked a, Random rnd) {
        int right = 6 + rnd.nextInt(5);
        List<String[]> given = new ArrayList<>();                           // answer, confidence
        for (int i = 0; i < 10; i++) {
            if (i < right) given.add(new String[] {a.answer(), rnd.nextInt(10) < 9 ? "yes" : "maybe"});
            else if (!a.synonyms().isEmpty() && rnd.nextInt(10) < 6) given.add(new String[] {pick(a.synonyms(), rnd), rnd.nextBoolean() ? "yes" : "maybe"});
            else given.add(new String[] {pick(a.wrong(), rnd), rnd.nextInt(10) < 6 ? "maybe" : "no"});
        }
        Collections.shuffle(given, rnd);
        List<VqaDataset.Answer> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) out.add(new VqaDataset.Answer(given.get(i)[0], given.get(i)[1], i + 1));
        return out;
    }
}
