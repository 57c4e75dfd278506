package io.vladapt.data;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imwrite;
import static org.bytedeco.opencv.global.opencv_imgproc.FILLED;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_AA;
import static org.bytedeco.opencv.global.opencv_imgproc.circle;
import static org.bytedeco.opencv.global.opencv_imgproc.fillPoly;
import static org.bytedeco.opencv.global.opencv_imgproc.rectangle;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Rect;

/**
 * Writes a synthetic ScienceQA in the exact distributed layout (problems.json, pid_splits.json,
 * captions.json, images/&lt;split&gt;/&lt;pid&gt;/image.png), deterministic by seed, any size.
 *
 * <p>Image problems are about scenes drawn with OpenCV (coloured circles, squares and triangles in a
 * 2 x 2 grid): the colour of a shape, how many shapes of a kind, which shape has a colour, which side
 * a shape is on. Their answer is only in the image; a fifth of them carry an uninformative hint
 * ("Look at the picture.") so that TXT and IMG overlap as in ScienceQA. Context problems state the
 * answer in the hint. No-context problems ask facts from a small fixed bank. Subjects (natural,
 * social, language science) and grades 1-12 are spread so that every category is populated.
 * captions.json describes each image in words (ScienceQA ships captions too): a language model that
 * reads the caption can answer, one that sees neither caption nor image cannot.
 *
 * <p>One file ScienceQA does not have: scenes.json ({pid: [[shape, colour, cell, big], ...]} with
 * indices into {@link #SHAPES} and {@link #COLORS}, cells 0-3 row-major in the 2 x 2 grid), the
 * ground truth a vision tower can be pretrained on. ScienceQA loaders ignore it.
 */
public final class SyntheticScienceQa {
    public static final List<String> COLORS = List.of("red", "green", "blue", "yellow", "purple", "orange");
    public static final List<String> SHAPES = List.of("circle", "square", "triangle");
    private static final double[][] BGR = {{40, 40, 220}, {60, 170, 40}, {220, 90, 30}, {30, 210, 230}, {170, 50, 150},
        {20, 130, 250}};
    private static final List<String> NUMBERS = List.of("one", "two", "three", "four");
    private static final List<String> NAMES = List.of("Maya", "Omar", "Lena", "Ravi", "Nora", "Theo", "Ines", "Kai");
    private static final List<String> THINGS = List.of("kite", "ball", "hat", "bike", "cup", "scarf");
    private static final List<String> ANIMALS = List.of("duck", "goat", "frog", "hen", "fox", "crab");
    /** question, right answer, wrong answers, subject, the fact as a sentence. */
    private record Fact(String question, String right, List<String> wrong, String subject, String statement) {}

    private static final List<Fact> FACTS = List.of(
            new Fact("Which animal can fly?", "bird", List.of("fish", "cow"), "natural science", "A bird can fly."),
            new Fact("Which of these is a mammal?", "dog", List.of("trout", "snail"), "natural science", "A dog is a mammal."),
            new Fact("Which is colder?", "ice", List.of("fire", "soup"), "natural science", "Ice is colder than fire and soup."),
            new Fact("Which plant part makes seeds?", "flower", List.of("root", "bark"), "natural science", "A flower makes seeds."),
            new Fact("Which object is a magnet drawn to?", "nail", List.of("cork", "paper"), "natural science", "A magnet is drawn to a nail."),
            new Fact("Which planet do we live on?", "Earth", List.of("Mars", "Venus"), "natural science", "We live on Earth."),
            new Fact("Which tool tells the time?", "clock", List.of("spoon", "brush"), "social science", "A clock tells the time."),
            new Fact("Who delivers letters?", "mail carrier", List.of("baker", "pilot"), "social science", "A mail carrier delivers letters."),
            new Fact("Which place has many books to borrow?", "library", List.of("bakery", "garage"), "social science",
                    "A library has many books to borrow."),
            new Fact("Which is a good that people buy?", "bread", List.of("rain", "sunlight"), "social science", "Bread is a good that people buy."),
            new Fact("Which word is a color?", "green", List.of("table", "jump"), "language science", "The word green is a color."),
            new Fact("Which word names an animal?", "horse", List.of("spoon", "quick"), "language science", "The word horse names an animal."),
            new Fact("Which word is an action?", "run", List.of("chair", "blue"), "language science", "The word run is an action."),
            new Fact("Which word rhymes with cat?", "hat", List.of("dog", "sun"), "language science", "The word hat rhymes with cat."),
            new Fact("Which word is a number?", "seven", List.of("river", "soft"), "language science", "The word seven is a number."),
            new Fact("Which word means the opposite of hot?", "cold", List.of("red", "tall"), "language science",
                    "The opposite of hot is cold."));

    /** Sizes of the splits, the image side in pixels, and the seed. */
    public record Spec(int train, int val, int test, int imageSize, long seed) {
        public static Spec demo() {
            return new Spec(3000, 300, 600, 64, 7);
        }
    }

    private record Shape(int shape, int color, int cell, boolean big) {}

    private record Made(ScienceQaProblem problem, List<Shape> scene, String caption) {}

    private final Spec spec;
    private final Random rnd;

    private SyntheticScienceQa(Spec spec) {
        this.spec = spec;
        this.rnd = new Random(spec.seed());
    }

    /** Writes the dataset under root (created); returns the problem count. */
    public static int write(Path root, Spec spec) throws IOException {
        return new SyntheticScienceQa(spec).writeAll(root);
    }

    private int writeAll(Path root) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode problems = json.createObjectNode(), splits = json.createObjectNode(), captions = json.createObjectNode();
        ObjectNode scenes = json.createObjectNode();
        ObjectNode capMap = captions.putObject("captions");
        int pid = 0;
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put("train", spec.train());
        sizes.put("val", spec.val());
        sizes.put("test", spec.test());
        for (Map.Entry<String, Integer> s : sizes.entrySet()) {
            ArrayNode ids = splits.putArray(s.getKey());
            for (int i = 0; i < s.getValue(); i++) {
                String id = String.valueOf(++pid);
                Made m = make(id, s.getKey());
                problems.set(id, m.problem().toJson(json));
                ids.add(id);
                if (m.scene() != null) {
                    Path dir = root.resolve("images").resolve(s.getKey()).resolve(id);
                    Files.createDirectories(dir);
                    draw(m.scene(), dir.resolve("image.png"));
                    capMap.put(id, m.caption());
                    ArrayNode sc = scenes.putArray(id);
                    for (Shape sh : m.scene()) sc.addArray().add(sh.shape()).add(sh.color()).add(sh.cell()).add(sh.big() ? 1 : 0);
                }
            }
        }
        AtomicFiles.writeString(root.resolve("problems.json"), json.writeValueAsString(problems));
        AtomicFiles.writeString(root.resolve("pid_splits.json"), json.writeValueAsString(splits));
        AtomicFiles.writeString(root.resolve("captions.json"), json.writeValueAsString(captions));
        AtomicFiles.writeString(root.resolve("scenes.json"), new ObjectMapper().writeValueAsString(scenes));
        return pid;
    }

    private Made make(String pid, String split) {
        int kind = rnd.nextInt(10);          // 5 image : 3 context : 2 no-context
        if (kind < 5) return imageProblem(pid, split);
        if (kind < 8) return contextProblem(pid, split);
        return factProblem(pid, split);
    }

    // ---------------------------------------------------------------- image problems
    private Made imageProblem(String pid, String split) {
        List<Shape> scene = new ArrayList<>();
        String question, right, subject, topic, solution, lecture;
        List<String> pool;
        int family = rnd.nextInt(4);
        if (family == 0) {                                           // colour of the only shape of its kind
            int target = rnd.nextInt(3);
            scene.add(new Shape(target, rnd.nextInt(6), -1, rnd.nextBoolean()));
            addOthers(scene, rnd.nextInt(3), target, -1);
            String s = SHAPES.get(target);
            question = "What color is the " + s + "?";
            right = COLORS.get(scene.get(0).color());
            pool = COLORS;
            subject = "natural science";
            topic = "colors";
            lecture = "Colors help us tell objects apart.";
            solution = "The " + s + " is " + right + ".";
        } else if (family == 1) {                                    // how many shapes of a kind
            int target = rnd.nextInt(3), n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n; i++) scene.add(new Shape(target, rnd.nextInt(6), -1, rnd.nextBoolean()));
            if (n < 4 && rnd.nextBoolean()) addOthers(scene, 1, target, -1);
            question = "How many " + SHAPES.get(target) + "s are in the picture?";
            right = NUMBERS.get(n - 1);
            pool = NUMBERS;
            subject = "natural science";
            topic = "counting";
            lecture = "To count objects, point to each one once.";
            solution = "There " + (n == 1 ? "is one " + SHAPES.get(target) : "are " + right + " " + SHAPES.get(target) + "s") + ".";
        } else if (family == 2) {                                    // which shape has the colour
            int color = rnd.nextInt(6), shape = rnd.nextInt(3);
            scene.add(new Shape(shape, color, -1, rnd.nextBoolean()));
            addOthers(scene, rnd.nextInt(3), -1, color);
            question = "Which shape is " + COLORS.get(color) + "?";
            right = SHAPES.get(shape);
            pool = SHAPES;
            subject = "natural science";
            topic = "shapes";
            lecture = "A shape is the outline of an object.";
            solution = "The " + COLORS.get(color) + " shape is a " + right + ".";
        } else {                                                     // which side of the map
            int shape = rnd.nextInt(3), color = rnd.nextInt(6);
            boolean left = rnd.nextBoolean();
            int cell = (left ? 0 : 1) + 2 * rnd.nextInt(2);
            scene.add(new Shape(shape, color, cell, rnd.nextBoolean()));
            int otherColor = (color + 1 + rnd.nextInt(5)) % 6;
            scene.add(new Shape(rnd.nextInt(3), otherColor, (left ? 1 : 0) + 2 * rnd.nextInt(2), rnd.nextBoolean()));
            question = "Which side of the map is the " + COLORS.get(color) + " " + SHAPES.get(shape) + " on?";
            right = left ? "left" : "right";
            pool = List.of("left", "right");
            subject = "social science";
            topic = "geography";
            lecture = "Maps show where places are. The left side is west and the right side is east.";
            solution = "The " + COLORS.get(color) + " " + SHAPES.get(shape) + " is on the " + right + " side.";
        }
        placeCells(scene);
        String hint = rnd.nextInt(5) == 0 ? "Look at the picture." : "";
        return new Made(problem(pid, split, question, right, pool, hint, "image.png", subject, topic, lecture, solution),
                scene, caption(scene));
    }

    /** Adds n shapes that differ in kind from avoidShape and in colour from avoidColor (-1: no constraint). */
    private void addOthers(List<Shape> scene, int n, int avoidShape, int avoidColor) {
        for (int i = 0; i < n && scene.size() < 4; i++) {
            int s;
            do s = rnd.nextInt(3); while (s == avoidShape);
            int c;
            do c = rnd.nextInt(6); while (c == avoidColor);
            scene.add(new Shape(s, c, -1, rnd.nextBoolean()));
        }
    }

    /** Gives every shape without a fixed cell a free cell of the 2 x 2 grid. */
    private void placeCells(List<Shape> scene) {
        List<Integer> free = new ArrayList<>(List.of(0, 1, 2, 3));
        for (Shape s : scene) if (s.cell() >= 0) free.remove(Integer.valueOf(s.cell()));
        Collections.shuffle(free, rnd);
        for (int i = 0; i < scene.size(); i++) {
            Shape s = scene.get(i);
            if (s.cell() < 0) scene.set(i, new Shape(s.shape(), s.color(), free.remove(0), s.big()));
        }
    }

    private static String caption(List<Shape> scene) {
        List<String> parts = new ArrayList<>();
        for (Shape s : scene) {
            parts.add("a " + (s.big() ? "big " : "small ") + COLORS.get(s.color()) + " " + SHAPES.get(s.shape()) + " on the "
                    + (s.cell() % 2 == 0 ? "left" : "right"));
        }
        return "The picture shows " + String.join(", ", parts) + ".";
    }

    private void draw(List<Shape> scene, Path file) {
        Mat m = render(truth(scene), spec.imageSize(), rnd);
        if (!imwrite(file.toString(), m)) throw new IllegalStateException("OpenCV could not write " + file);
    }

    /**
     * Random scenes that are not ScienceQA problems, rendered in memory, with their ground truth: more
     * images to pretrain a vision tower on than the problems have.
     *
     * @return per scene the BGR image and [[shape, colour, cell, big], ...]
     */
    public static List<Map.Entry<Mat, int[][]>> randomScenes(int count, int imageSize, long seed) {
        SyntheticScienceQa g = new SyntheticScienceQa(new Spec(0, 0, 0, imageSize, seed));
        List<Map.Entry<Mat, int[][]>> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<Shape> scene = new ArrayList<>();
            int n = 1 + g.rnd.nextInt(4);
            for (int k = 0; k < n; k++) scene.add(new Shape(g.rnd.nextInt(3), g.rnd.nextInt(6), -1, g.rnd.nextBoolean()));
            g.placeCells(scene);
            int[][] truth = truth(scene);
            out.add(Map.entry(render(truth, imageSize, g.rnd), truth));
        }
        return out;
    }

    /** [[shape, colour, cell, big], ...]: the ground truth format of scenes.json and randomScenes. */
    private static int[][] truth(List<Shape> scene) {
        int[][] truth = new int[scene.size()][];
        for (int k = 0; k < truth.length; k++) {
            Shape s = scene.get(k);
            truth[k] = new int[] {s.shape(), s.color(), s.cell(), s.big() ? 1 : 0};
        }
        return truth;
    }

    /**
     * Draws a scene ([[shape, colour, cell, big], ...], cells 0-3 row-major in a 2 x 2 grid) on a
     * light grey background: shapes centred in their cell with a random jitter, big ones about twice
     * the area of small ones. rnd draws the background shade and the jitters.
     *
     * @return a BGR image of imageSize x imageSize
     */
    public static Mat render(int[][] scene, int imageSize, Random rnd) {
        int n = imageSize, half = n / 2;
        int bg = 225 + rnd.nextInt(31);
        Mat m = new Mat(n, n, opencv_core.CV_8UC3, new org.bytedeco.opencv.opencv_core.Scalar(bg, bg, bg, 0));
        for (int[] s : scene) {
            int shape = s[0], color = s[1], cell = s[2];
            int r = (s[3] != 0 ? 11 : 7) * n / 64;
            int jitter = Math.max(1, half / 2 - r - 1);
            int cx = (cell % 2) * half + half / 2 + rnd.nextInt(2 * jitter + 1) - jitter;
            int cy = (cell / 2) * half + half / 2 + rnd.nextInt(2 * jitter + 1) - jitter;
            double[] c = BGR[color];
            org.bytedeco.opencv.opencv_core.Scalar colour = new org.bytedeco.opencv.opencv_core.Scalar(c[0], c[1], c[2], 0);
            switch (shape) {
                case 0 -> circle(m, new Point(cx, cy), r, colour, FILLED, LINE_AA, 0);
                case 1 -> rectangle(m, new Rect(cx - r, cy - r, 2 * r, 2 * r), colour, FILLED, LINE_AA, 0);
                default -> {
                    Mat pts = new Mat(3, 1, opencv_core.CV_32SC2);
                    org.bytedeco.javacpp.IntPointer p = new org.bytedeco.javacpp.IntPointer(pts.data());
                    p.put(0, cx).put(1, cy - r).put(2, cx - r).put(3, cy + r).put(4, cx + r).put(5, cy + r);
                    fillPoly(m, new MatVector(pts), colour, LINE_AA, 0, new Point(0, 0));
                }
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- text problems
    private Made contextProblem(String pid, String split) {
        String name = pick(NAMES), question, right, hint, subject, topic, lecture, solution;
        List<String> pool;
        int family = rnd.nextInt(3);
        if (family == 0) {
            String thing = pick(THINGS);
            right = pick(COLORS);
            hint = name + " has a " + right + " " + thing + ".";
            question = "What color is " + name + "'s " + thing + "?";
            pool = COLORS;
            subject = "social science";
            topic = "reading";
            lecture = "The context tells us about people and their things.";
            solution = name + "'s " + thing + " is " + right + ".";
        } else if (family == 1) {
            String animal = pick(ANIMALS);
            int n = 1 + rnd.nextInt(4);
            right = NUMBERS.get(n - 1);
            hint = name + " sees " + right + " " + animal + (n == 1 ? "" : "s") + ".";
            question = "How many " + animal + "s does " + name + " see?";
            pool = NUMBERS;
            subject = "natural science";
            topic = "counting";
            lecture = "To count objects, point to each one once.";
            solution = name + " sees " + right + ".";
        } else {
            List<String> words = new ArrayList<>(THINGS);
            words.addAll(ANIMALS);
            right = pick(words);
            hint = name + " said the word " + right + ".";
            question = "Which word did " + name + " say?";
            pool = words;
            subject = "language science";
            topic = "vocabulary";
            lecture = "Read the context to find the word.";
            solution = name + " said " + right + ".";
        }
        return new Made(problem(pid, split, question, right, pool, hint, null, subject, topic, lecture, solution), null, null);
    }

    private Made factProblem(String pid, String split) {
        Fact f = FACTS.get(rnd.nextInt(FACTS.size()));
        List<String> pool = new ArrayList<>(f.wrong());
        pool.add(f.right());
        return new Made(problem(pid, split, f.question(), f.right(), pool, "", null, f.subject(), "facts",
                "Some facts are worth remembering.", f.statement()), null, null);
    }

    /**
     * Problems (and, for image problems, their captions; null otherwise) made in memory without
     * drawing anything: text to train a language model on, far more than a dataset's images.
     */
    public static List<Map.Entry<ScienceQaProblem, String>> textProblems(int count, long seed) {
        SyntheticScienceQa g = new SyntheticScienceQa(new Spec(0, 0, 0, 64, seed));
        List<Map.Entry<ScienceQaProblem, String>> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Made m = g.make("text-" + i, "train");
            out.add(new java.util.AbstractMap.SimpleImmutableEntry<>(m.problem(), m.caption()));
        }
        return out;
    }

    /** Every fact of the bank as a sentence: text a language model can learn the no-context answers from. */
    public static List<String> factStatements() {
        return FACTS.stream().map(Fact::statement).toList();
    }

    private ScienceQaProblem problem(String pid, String split, String question, String right, List<String> pool, String hint,
                                     String image, String subject, String topic, String lecture, String solution) {
        int n = Math.min(pool.size(), 2 + rnd.nextInt(3));
        List<String> choices = new ArrayList<>();
        choices.add(right);
        List<String> others = new ArrayList<>(pool);
        others.remove(right);
        Collections.shuffle(others, rnd);
        choices.addAll(others.subList(0, n - 1));
        Collections.shuffle(choices, rnd);
        int grade = 1 + rnd.nextInt(12);
        return new ScienceQaProblem(pid, question, choices, choices.indexOf(right), hint, image, "closed choice",
                "grade" + grade, subject, topic, topic, topic, lecture, solution, split);
    }

    private String pick(List<String> xs) {
        return xs.get(rnd.nextInt(xs.size()));
    }
}
