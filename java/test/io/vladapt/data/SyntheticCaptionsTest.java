package io.vladapt.data;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imread;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.SyntheticScene.Obj;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthetic captions + VQA dataset loads back through the COCO and VQA readers, is byte-identical
 * for a seed, has every question type, and its answers and images agree with the scene ground truth.
 */
class SyntheticCaptionsTest {
    static final SyntheticCaptions.Spec SPEC = new SyntheticCaptions.Spec(40, 25, 32, 5);
    static final List<String> JSON = List.of("dataset_coco.json", "scenes.json", VqaDataset.questionsFileName("train2014"),
            VqaDataset.annotationsFileName("train2014"), VqaDataset.questionsFileName("val2014"), VqaDataset.annotationsFileName("val2014"));

    @TempDir
    static Path root;
    static SyntheticCaptions.Counts counts;

    @BeforeAll
    static void write() throws IOException {
        counts = SyntheticCaptions.write(root, SPEC);
    }

    @Test
    void captionsLoadBackWithKarpathysSplits() {
        assertEquals(40, counts.trainImages());
        assertEquals(25, counts.valImages());
        assertEquals(65 * 5, counts.captions());
        CocoCaptions coco = CocoCaptions.load(root.resolve("dataset_coco.json"), SyntheticCaptions.imageRoot(root));
        assertEquals(65, coco.images().size());
        List<CocoCaptions.Item> train = coco.split("train", false), withRestval = coco.split("train", true);
        assertEquals(40, train.size());
        assertEquals(40 + 5, withRestval.size(), "every fifth val2014 image is restval");
        assertEquals(10, coco.split("val", false).size());
        assertEquals(10, coco.split("test", false).size());
        assertTrue(Files.isRegularFile(root.resolve("images/train2014/COCO_train2014_000000000001.jpg")));
        assertTrue(Files.isRegularFile(root.resolve("images/val2014/COCO_val2014_000000000041.jpg")));
        for (CocoCaptions.Item it : withRestval) {
            assertEquals(5, it.captions().size());
            assertEquals(5, new HashSet<>(it.captions()).size(), "distinct references " + it.captions());
        }
        CocoCaptions.Image first = coco.images().get(0);
        assertEquals(0, first.imgid());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), first.sentids());
        for (CocoCaptions.Sentence t : first.sentences()) {
            assertEquals(t.raw().toLowerCase().replaceAll("[^a-z0-9 ]", "").replaceAll(" +", " ").strip(), String.join(" ", t.tokens()));
        }
    }

    @Test
    void questionsLoadBackJoinedWithAnnotations() {
        for (String sub : List.of("train2014", "val2014")) {
            List<VqaDataset.Entry> entries = VqaDataset.load(root.resolve(VqaDataset.questionsFileName(sub)),
                    root.resolve(VqaDataset.annotationsFileName(sub)), SyntheticCaptions.imageDir(root, sub));
            assertEquals(sub.equals("train2014") ? counts.trainQuestions() : counts.valQuestions(), entries.size());
            for (VqaDataset.Entry e : entries) {
                VqaDataset.Annotation a = e.annotation();
                assertEquals(10, a.answers().size());
                Map<String, Integer> votes = new HashMap<>();
                for (String s : a.answerStrings()) votes.merge(s, 1, Integer::sum);
                assertTrue(votes.get(a.multipleChoiceAnswer()) >= 6, "most humans give the canonical answer: " + a);
                assertTrue(Files.isRegularFile(e.image()));
                assertEquals(e.question().imageId() / 1, a.imageId());
                assertEquals(e.question().imageId(), e.question().questionId() / 1000);
            }
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherData(@TempDir Path other) throws IOException {
        SyntheticCaptions.write(other.resolve("same"), SPEC);
        for (String f : JSON) assertArrayEquals(Files.readAllBytes(root.resolve(f)), Files.readAllBytes(other.resolve("same").resolve(f)), f);
        assertArrayEquals(Files.readAllBytes(root.resolve("images/val2014/COCO_val2014_000000000050.jpg")),
                Files.readAllBytes(other.resolve("same/images/val2014/COCO_val2014_000000000050.jpg")));
        SyntheticCaptions.write(other.resolve("seed6"), new SyntheticCaptions.Spec(40, 25, 32, 6));
        assertNotEquals(Files.readString(root.resolve("dataset_coco.json")), Files.readString(other.resolve("seed6/dataset_coco.json")));
    }

    @Test
    void generateMatchesWhatWasWritten() {
        Map<Long, SyntheticScene> scenes = SyntheticCaptions.readScenes(root);
        List<SyntheticCaptions.Sample> samples = SyntheticCaptions.generate(SPEC);
        assertEquals(65, samples.size());
        for (SyntheticCaptions.Sample s : samples) {
            assertEquals(scenes.get(s.imageId()), s.scene());
            assertEquals(s.scene().description(), s.description());
        }
        CocoCaptions coco = CocoCaptions.load(root.resolve("dataset_coco.json"), SyntheticCaptions.imageRoot(root));
        assertEquals(samples.get(7).captions(), coco.images().get(7).captions());
    }

    @Test
    void everyQuestionAndAnswerTypeIsPresent() {
        Set<String> types = new HashSet<>(), answerTypes = new HashSet<>();
        for (String sub : List.of("train2014", "val2014")) {
            for (VqaDataset.Annotation a : VqaDataset.readAnnotations(root.resolve(VqaDataset.annotationsFileName(sub))).annotations()) {
                types.add(a.questionType());
                answerTypes.add(a.answerType());
            }
        }
        assertEquals(new HashSet<>(SceneQuestions.QUESTION_TYPES), types);
        assertEquals(Set.of("yes/no", "number", "other"), answerTypes);
    }

    @Test
    void answersAgreeWithTheScene() {
        Map<Long, SyntheticScene> scenes = SyntheticCaptions.readScenes(root);
        int checked = 0;
        for (String sub : List.of("train2014", "val2014")) {
            for (VqaDataset.Entry e : VqaDataset.load(root.resolve(VqaDataset.questionsFileName(sub)),
                    root.resolve(VqaDataset.annotationsFileName(sub)), SyntheticCaptions.imageDir(root, sub))) {
                SyntheticScene s = scenes.get(e.question().imageId());
                assertEquals(expected(s, e.question().question()), e.annotation().multipleChoiceAnswer(),
                        e.question().question() + " about " + s.description());
                checked++;
            }
        }
        assertTrue(checked > 100);
    }

    @Test
    void descriptionNamesEveryObject() {
        for (SyntheticCaptions.Sample s : SyntheticCaptions.generate(SPEC)) {
            for (Obj o : s.scene().objects()) assertTrue(s.description().contains(o.name() + " in the " + o.position()), s.description());
        }
        SyntheticScene two = new SyntheticScene(List.of(new Obj(0, 0, 0, true), new Obj(1, 2, 3, false)));
        assertEquals("a big red circle in the top left and a small blue square in the bottom right.", two.description());
    }

    @Test
    void imagesShowShapesExactlyInTheirCells() {
        Map<Long, SyntheticScene> scenes = SyntheticCaptions.readScenes(root);
        for (long id : List.of(1L, 2L, 3L, 41L, 60L)) {
            String sub = id <= 40 ? "train2014" : "val2014";
            Mat m = imread(SyntheticCaptions.imageDir(root, sub).resolve(VqaDataset.imageFileName(sub, id)).toString());
            assertFalse(m.empty());
            assertEquals(32, m.rows());
            Set<Integer> occupied = new HashSet<>();
            for (Obj o : scenes.get(id).objects()) occupied.add(o.cell());
            UByteIndexer px = m.createIndexer();
            for (int cell = 0; cell < 4; cell++) {
                int coloured = 0;
                for (int y = (cell / 2) * 16; y < (cell / 2) * 16 + 16; y++) {
                    for (int x = (cell % 2) * 16; x < (cell % 2) * 16 + 16; x++) {
                        int b = px.get(y, x, 0), g = px.get(y, x, 1), r = px.get(y, x, 2);
                        if (Math.max(b, Math.max(g, r)) - Math.min(b, Math.min(g, r)) > 80) coloured++;
                    }
                }
                assertEquals(occupied.contains(cell), coloured > 10, "image " + id + " cell " + cell + ": " + coloured + " coloured pixels");
            }
            px.close();
            m.close();
        }
    }

    // ---------------------------------------------------------------- an independent reading of the questions
    private static final Pattern COLOR_OF = Pattern.compile("What color is the (\\w+)\\?");
    private static final Pattern COUNT_ALL = Pattern.compile("How many (shapes|objects) are (there|in the picture)\\?");
    private static final Pattern COUNT_OF = Pattern.compile("How many (\\w+)s are there\\?");
    private static final Pattern IS_THERE = Pattern.compile("Is there an? (?:(\\w+) )?(\\w+)\\?");
    private static final Pattern SHAPE_OF = Pattern.compile("What shape is (?:the )?(\\w+)(?: object)?\\?");
    private static final Pattern WHERE = Pattern.compile("Where is the (?:(\\w+) )?(\\w+)\\?");
    private static final Pattern RELATION = Pattern.compile("Is the (?:(\\w+) )?(\\w+) (above|below|to the left of|to the right of) the (?:(\\w+) )?(\\w+)\\?");
    private static final Pattern SIZE = Pattern.compile("What size is the (?:(\\w+) )?(\\w+)\\?");

    static String expected(SyntheticScene s, String q) {
        Matcher m;
        if ((m = COLOR_OF.matcher(q)).matches()) return only(s, null, m.group(1)).colorName();
        if (COUNT_ALL.matcher(q).matches()) return String.valueOf(s.objects().size());
        if ((m = COUNT_OF.matcher(q)).matches()) {
            String shape = m.group(1);
            return String.valueOf(s.objects().stream().filter(o -> o.shapeName().equals(shape)).count());
        }
        if ((m = IS_THERE.matcher(q)).matches()) return find(s, m.group(1), m.group(2)).isEmpty() ? "no" : "yes";
        if ((m = SHAPE_OF.matcher(q)).matches()) {
            String colour = m.group(1);
            List<Obj> of = s.objects().stream().filter(o -> o.colorName().equals(colour)).toList();
            assertEquals(1, of.size(), q);
            return of.get(0).shapeName();
        }
        if ((m = WHERE.matcher(q)).matches()) return only(s, m.group(1), m.group(2)).position();
        if ((m = RELATION.matcher(q)).matches()) {
            Obj a = only(s, m.group(1), m.group(2)), b = only(s, m.group(4), m.group(5));
            boolean yes = switch (m.group(3)) {
                case "above" -> a.row() < b.row();
                case "below" -> a.row() > b.row();
                case "to the left of" -> a.col() < b.col();
                default -> a.col() > b.col();
            };
            return yes ? "yes" : "no";
        }
        if ((m = SIZE.matcher(q)).matches()) return only(s, m.group(1), m.group(2)).big() ? "big" : "small";
        throw new AssertionError("unknown question form: " + q);
    }

    static List<Obj> find(SyntheticScene s, String colour, String shape) {
        return s.objects().stream().filter(o -> o.shapeName().equals(shape) && (colour == null || o.colorName().equals(colour))).toList();
    }

    static Obj only(SyntheticScene s, String colour, String shape) {
        List<Obj> of = find(s, colour, shape);
        assertEquals(1, of.size(), "the question names one object: " + colour + " " + shape + " in " + s.description());
        return of.get(0);
    }
}
