package io.vladapt.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * What a synthetic image shows: one to four coloured shapes, each in its own cell of a 2 x 2 grid
 * (cells 0-3 row-major), big or small, no two with the same shape and colour (so "the red circle" is
 * always one object). Shapes and colours index {@link SyntheticScienceQa#SHAPES} and {@link
 * SyntheticScienceQa#COLORS}, and {@link #truth()} is SyntheticScienceQa's ground-truth format, so the
 * same renderer draws both datasets.
 */
public record SyntheticScene(List<Obj> objects) {
    public static final List<String> POSITIONS = List.of("top left", "top right", "bottom left", "bottom right");

    /** One shape: indices into SHAPES and COLORS, its grid cell, its size. */
    public record Obj(int shape, int color, int cell, boolean big) {
        public String shapeName() {
            return SyntheticScienceQa.SHAPES.get(shape);
        }

        public String colorName() {
            return SyntheticScienceQa.COLORS.get(color);
        }

        public String sizeName() {
            return big ? "big" : "small";
        }

        public int row() {
            return cell / 2;
        }

        public int col() {
            return cell % 2;
        }

        /** "top left", "top right", "bottom left" or "bottom right". */
        public String position() {
            return POSITIONS.get(cell);
        }

        /** "big red circle". */
        public String name() {
            return sizeName() + " " + colorName() + " " + shapeName();
        }
    }

    public SyntheticScene {
        objects = List.copyOf(objects);
    }

    /** A random scene: 1-4 objects, distinct cells, distinct (shape, colour) pairs, listed in cell order. */
    public static SyntheticScene random(Random rnd) {
        int n = 1 + rnd.nextInt(4);
        List<Integer> cells = new ArrayList<>(List.of(0, 1, 2, 3));
        Collections.shuffle(cells, rnd);
        List<Obj> objs = new ArrayList<>();
        while (objs.size() < n) {
            int shape = rnd.nextInt(SyntheticScienceQa.SHAPES.size()), color = rnd.nextInt(SyntheticScienceQa.COLORS.size());
            boolean big = rnd.nextBoolean();
            if (objs.stream().anyMatch(o -> o.shape() == shape && o.color() == color)) continue;
            objs.add(new Obj(shape, color, cells.get(objs.size()), big));
        }
        objs.sort(Comparator.comparingInt(Obj::cell));
        return new SyntheticScene(objs);
    }

    /**
     * The canonical description: every object with size, colour, shape and position, in cell order,
     * always the same words for the same scene, e.g. "a big red circle in the top left and a small
     * blue square in the bottom right." What a model that saw the image exactly would say.
     */
    public String description() {
        List<String> parts = new ArrayList<>();
        for (Obj o : objects) parts.add("a " + o.name() + " in the " + o.position());
        return SceneWords.list(parts) + ".";
    }

    /** [[shape, colour, cell, big], ...] as SyntheticScienceQa writes and renders scenes. */
    public int[][] truth() {
        int[][] out = new int[objects.size()][];
        for (int i = 0; i < out.length; i++) {
            Obj o = objects.get(i);
            out[i] = new int[] {o.shape(), o.color(), o.cell(), o.big() ? 1 : 0};
        }
        return out;
    }

    public static SyntheticScene fromTruth(int[][] truth) {
        List<Obj> objs = new ArrayList<>();
        for (int[] t : truth) objs.add(new Obj(t[0], t[1], t[2], t[3] != 0));
        return new SyntheticScene(objs);
    }

    /** Objects of a shape (index into SHAPES). */
    public List<Obj> withShape(int shape) {
        return objects.stream().filter(o -> o.shape() == shape).toList();
    }

    /** Objects of a colour (index into COLORS). */
    public List<Obj> withColor(int color) {
        return objects.stream().filter(o -> o.color() == color).toList();
    }
}
