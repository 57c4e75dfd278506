package io.vladapt.data;

import static io.vladapt.data.SceneWords.list;
import static io.vladapt.data.SceneWords.mostly;
import static io.vladapt.data.SceneWords.number;
import static io.vladapt.data.SceneWords.pick;
import static io.vladapt.data.SceneWords.plural;
import static io.vladapt.data.SceneWords.withArticle;

import io.vladapt.data.SyntheticScene.Obj;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Reference captions of a synthetic scene, varied the way five COCO annotators vary: seven templates
 * (a spatial relation, a count with a list, positions, "there is", "a picture of", colours only,
 * shapes counted), objects named with more or less detail, in different orders, with synonyms
 * (large/little/tiny, disc, box, upper/lower, drawing/image) and inconsistent capitals and full stops.
 * They agree on content, so n-gram metrics such as CIDEr reward a candidate that gets the scene right.
 */
final class SceneCaptions {
    private static final int TEMPLATES = 7;

    private SceneCaptions() {}

    /** count distinct captions (distinct also ignoring case and the full stop), each template used before any repeats. */
    static List<String> captions(SyntheticScene s, Random rnd, int count) {
        List<Integer> order = new ArrayList<>();
        for (int t = 0; t < TEMPLATES; t++) if (t != 0 || s.objects().size() > 1) order.add(t);  // a relation needs two objects
        Collections.shuffle(order, rnd);
        Set<String> seen = new LinkedHashSet<>();
        List<String> out = new ArrayList<>();
        for (int attempt = 0; out.size() < count; attempt++) {
            if (attempt > 100 * count) throw new IllegalStateException("cannot vary captions of " + s.description());
            String c = caption(s, order.get(attempt % order.size()), rnd);
            if (seen.add(c.toLowerCase(Locale.ROOT).replace(".", ""))) out.add(style(c, rnd));
        }
        return out;
    }

    private static String caption(SyntheticScene s, int template, Random rnd) {
        List<Obj> objs = new ArrayList<>(s.objects());
        Collections.shuffle(objs, rnd);
        int detail = 1 + rnd.nextInt(2);                  // colour and shape, or size too
        switch (template) {
            case 0: {                                     // "a big red circle above a small blue square"
                String c = np(objs.get(0), detail, rnd) + " " + relation(objs.get(0), objs.get(1), rnd) + " " + np(objs.get(1), detail, rnd);
                // ", and also": a plain "and" would read as if the relation held for the others too
                return objs.size() > 2 && rnd.nextBoolean() ? c + ", and also " + nps(objs.subList(2, objs.size()), detail, rnd) : c;
            }
            case 1: {                                     // "two shapes on a white background: a red circle and a blue square"
                String head = objs.size() == 1 ? mostly(List.of("a single shape", "one shape", "just one shape"), 0.5, rnd)
                        : number(objs.size()) + " " + mostly(List.of("shapes", "objects"), 0.3, rnd);
                return head + " on a " + background(rnd) + ": " + nps(objs, detail, rnd);
            }
            case 2: {                                     // "a red circle in the top left and a blue square in the bottom right"
                List<String> parts = new ArrayList<>();
                for (Obj o : objs) parts.add(np(o, detail, rnd) + " " + where(o, rnd));
                return list(parts);
            }
            case 3: {                                     // "there is a small blue square below a big red circle"
                String c = "there is " + np(objs.get(0), detail, rnd) + " ";
                return objs.size() > 1 && rnd.nextBoolean() ? c + relation(objs.get(0), objs.get(1), rnd) + " " + np(objs.get(1), detail, rnd)
                        : c + where(objs.get(0), rnd);
            }
            case 4:                                       // "a drawing of a red circle and a blue square"
                return withArticle(mostly(List.of("picture", "drawing", "image", "simple drawing"), 0.6, rnd)) + " of " + nps(objs, detail, rnd);
            case 5: {                                     // "red and blue shapes on a white background"
                List<String> colours = colours(objs);
                if (objs.size() == 1) return withArticle(colours.get(0)) + " " + shape(objs.get(0), rnd) + " on a " + background(rnd);
                String head = colours.size() == 1 ? number(objs.size()) + " " + colours.get(0) : list(colours);
                return head + " " + mostly(List.of("shapes", "objects"), 0.3, rnd) + " on a " + background(rnd);
            }
            default: {                                    // "two circles and a square"
                Map<String, Integer> byShape = new LinkedHashMap<>();
                for (Obj o : objs) byShape.merge(o.shapeName(), 1, Integer::sum);
                List<String> parts = new ArrayList<>();
                byShape.forEach((shape, n) -> parts.add(n == 1 ? withArticle(shape) : number(n) + " " + plural(shape)));
                String c = list(parts);
                boolean allDiffer = objs.size() > 1 && colours(objs).size() == objs.size();
                return allDiffer && rnd.nextBoolean() ? c + " of different colors" : c + " on a " + background(rnd);
            }
        }
    }

    /** The distinct colour names of objs, in their order. */
    private static List<String> colours(List<Obj> objs) {
        return objs.stream().map(Obj::colorName).distinct().toList();
    }

    /** A noun phrase: "a red circle" (detail 1) or "a big red circle" (detail 2). */
    private static String np(Obj o, int detail, Random rnd) {
        String core = o.colorName() + " " + shape(o, rnd);
        if (detail >= 2) core = (o.big() ? mostly(List.of("big", "large"), 0.4, rnd) : mostly(List.of("small", "little", "tiny"), 0.4, rnd)) + " " + core;
        return withArticle(core);
    }

    private static String nps(List<Obj> objs, int detail, Random rnd) {
        List<String> parts = new ArrayList<>();
        for (Obj o : objs) parts.add(np(o, detail, rnd));
        return list(parts);
    }

    private static String shape(Obj o, Random rnd) {
        return switch (o.shape()) {
            case 0 -> mostly(List.of("circle", "disc"), 0.15, rnd);
            case 1 -> mostly(List.of("square", "box"), 0.15, rnd);
            default -> "triangle";
        };
    }

    private static String background(Random rnd) {
        return mostly(List.of("white background", "light background", "plain background", "gray background"), 0.4, rnd);
    }

    /** "in the top left", "at the upper left", "in the top left corner". */
    private static String where(Obj o, Random rnd) {
        String pos = o.position();
        if (rnd.nextInt(4) == 0) pos = pos.replace("top", "upper").replace("bottom", "lower");
        return pick(List.of("in the ", "at the ", "in the "), rnd) + pos + (rnd.nextInt(3) == 0 ? " corner" : "");
    }

    /** Where a is seen from b: above, below, to the left of, to the right of (diagonals by the row). */
    private static String relation(Obj a, Obj b, Random rnd) {
        if (a.row() == b.row()) {
            return a.col() < b.col() ? mostly(List.of("to the left of", "left of", "next to"), 0.3, rnd)
                    : mostly(List.of("to the right of", "right of", "next to"), 0.3, rnd);
        }
        String vertical = a.row() < b.row() ? mostly(List.of("above", "over"), 0.3, rnd) : mostly(List.of("below", "under", "beneath"), 0.4, rnd);
        if (a.col() == b.col() || rnd.nextBoolean()) return vertical;
        return vertical + " and to the " + (a.col() < b.col() ? "left" : "right") + " of";
    }

    /** Capital first letter half the time, a full stop 40% of the time: annotators are inconsistent. */
    private static String style(String c, Random rnd) {
        if (rnd.nextBoolean()) c = Character.toUpperCase(c.charAt(0)) + c.substring(1);
        return rnd.nextInt(5) < 2 ? c + "." : c;
    }
}
