package io.vladapt.data;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imwrite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A synthetic COCO captions + VQA v2 dataset in the real layouts, deterministic by seed, any size:
 * <pre>
 * images/train2014/COCO_train2014_%012d.jpg, images/val2014/COCO_val2014_%012d.jpg
 * dataset_coco.json                                  Karpathy split, 5 captions per image
 * v2_OpenEnded_mscoco_{train,val}2014_questions.json VQA questions
 * v2_mscoco_{train,val}2014_annotations.json         VQA annotations, 10 answers per question
 * scenes.json                                        ground truth (not in COCO; loaders ignore it)
 * </pre>
 * Each image is a {@link SyntheticScene} drawn by SyntheticScienceQa's renderer. Train images have
 * COCO ids 1..trainImages, val images the next valImages ids. As in Karpathy's file, val2014 images
 * are split into val, test and restval (2 : 2 : 1, by position); train2014 images are all train.
 * VQA questions (up to 5 per image, question_id = image_id * 1000 + k as in VQA) cover every image of
 * their subtype.
 *
 * <p>Every image has its own random streams, derived from the seed and its id (one for the scene and
 * text, one for drawing), so {@link #generate} gives the same scenes, captions and questions as
 * {@link #write} without drawing anything, and the JSON files are byte-identical for a seed.
 */
public final class SyntheticCaptions {
    public static final String TRAIN = "train2014", VAL = "val2014";
    static final int CAPTIONS_PER_IMAGE = 5, QUESTIONS_PER_IMAGE = 5;

    /** Image counts, image side in pixels, seed. */
    public record Spec(int trainImages, int valImages, int imageSize, long seed) {
        public Spec {
            if (trainImages < 0 || valImages < 0) throw new IllegalArgumentException("image counts must be >= 0");
            if (imageSize < 16) throw new IllegalArgumentException("imageSize " + imageSize + " < 16 px");
        }

        public static Spec demo() {
            return new Spec(4000, 1000, 64, 11);
        }
    }

    /**
     * One image: its COCO id, subtype ("train2014" or "val2014"), Karpathy split, scene, canonical
     * description, 5 reference captions and VQA questions.
     */
    public record Sample(long imageId, String subtype, String karpathySplit, SyntheticScene scene, String description,
                         List<String> captions, List<SceneQuestions.Qa> questions) {
        /** question_id of question k of this image, as VQA numbers them. */
        public long questionId(int k) {
            return imageId * 1000 + k;
        }
    }

    /** What {@link #write} wrote. */
    public record Counts(int trainImages, int valImages, int captions, int trainQuestions, int valQuestions) {}

    private SyntheticCaptions() {}

    /** The samples of spec in id order (train then val), without images. */
    public static List<Sample> generate(Spec spec) {
        List<Sample> out = new ArrayList<>(spec.trainImages() + spec.valImages());
        for (int i = 0; i < spec.trainImages(); i++) out.add(sample(spec, i + 1, TRAIN, "train"));
        for (int i = 0; i < spec.valImages(); i++) {
            String split = switch (i % 5) {
                case 0, 1 -> "val";
                case 2, 3 -> "test";
                default -> "restval";
            };
            out.add(sample(spec, spec.trainImages() + i + 1, VAL, split));
        }
        return out;
    }

    private static Sample sample(Spec spec, long id, String subtype, String split) {
        Random rnd = new Random(stream(spec.seed(), id, 0));
        SyntheticScene scene = SyntheticScene.random(rnd);
        List<String> captions = SceneCaptions.captions(scene, rnd, CAPTIONS_PER_IMAGE);
        List<SceneQuestions.Qa> questions = SceneQuestions.ask(scene, rnd, QUESTIONS_PER_IMAGE);
        return new Sample(id, subtype, split, scene, scene.description(), captions, questions);
    }

    /** A seed per image and purpose, so that images do not depend on each other (or on being drawn). */
    private static long stream(long seed, long id, int purpose) {
        long h = seed * 0x9E3779B97F4A7C15L + id * 0xC2B2AE3D27D4EB4FL + purpose;
        return h ^ (h >>> 31);
    }

    /** The image of a sample, drawn as {@link #write} draws it (BGR, imageSize x imageSize). */
    public static Mat render(Spec spec, Sample s) {
        return SyntheticScienceQa.render(s.scene().truth(), spec.imageSize(), new Random(stream(spec.seed(), s.imageId(), 1)));
    }

    /** The image root of dataset_coco.json (holding train2014/ and val2014/). */
    public static Path imageRoot(Path root) {
        return root.resolve("images");
    }

    /** The folder of a subtype's images, where VQA looks for COCO_&lt;subtype&gt;_&lt;id&gt;.jpg. */
    public static Path imageDir(Path root, String subtype) {
        return imageRoot(root).resolve(subtype);
    }

    /** Writes the dataset under root (created). */
    public static Counts write(Path root, Spec spec) throws IOException {
        List<Sample> samples = generate(spec);
        for (Sample s : samples) {
            Path file = imageDir(root, s.subtype()).resolve(VqaDataset.imageFileName(s.subtype(), s.imageId()));
            Files.createDirectories(file.getParent());
            Mat m = render(spec, s);
            AtomicFiles.write(file, tmp -> {
                Path jpg = tmp.resolveSibling(tmp.getFileName() + ".jpg");  // OpenCV picks the codec by extension
                try {
                    if (!imwrite(jpg.toString(), m)) throw new IOException("OpenCV could not write " + jpg);
                    Files.move(jpg, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(jpg);
                }
            });
            m.close();
        }
        CocoCaptions.write(root.resolve("dataset_coco.json"), karpathy(samples));
        int[] questions = new int[2];
        for (String subtype : List.of(TRAIN, VAL)) {
            List<Sample> of = samples.stream().filter(s -> s.subtype().equals(subtype)).toList();
            questions[subtype.equals(TRAIN) ? 0 : 1] = writeVqa(root, subtype, of);
        }
        writeScenes(root.resolve("scenes.json"), samples);
        return new Counts(spec.trainImages(), spec.valImages(), samples.size() * CAPTIONS_PER_IMAGE, questions[0], questions[1]);
    }

    private static List<CocoCaptions.Image> karpathy(List<Sample> samples) {
        List<CocoCaptions.Image> images = new ArrayList<>();
        long sentid = 0;
        for (Sample s : samples) {
            long imgid = images.size();
            List<CocoCaptions.Sentence> sentences = new ArrayList<>();
            List<Long> sentids = new ArrayList<>();
            for (String c : s.captions()) {
                sentids.add(sentid);
                sentences.add(CocoCaptions.sentence(c, imgid, sentid++));
            }
            images.add(new CocoCaptions.Image(s.subtype(), sentids, VqaDataset.imageFileName(s.subtype(), s.imageId()), imgid,
                    s.karpathySplit(), sentences, s.imageId()));
        }
        return images;
    }

    private static int writeVqa(Path root, String subtype, List<Sample> samples) throws IOException {
        List<VqaDataset.Question> qs = new ArrayList<>();
        List<VqaDataset.Annotation> as = new ArrayList<>();
        for (Sample s : samples) {
            for (int k = 0; k < s.questions().size(); k++) {
                SceneQuestions.Qa q = s.questions().get(k);
                qs.add(new VqaDataset.Question(s.imageId(), capitalise(q.question()), s.questionId(k)));
                as.add(new VqaDataset.Annotation(s.questionId(k), s.imageId(), q.questionType(), q.answerType(), q.answer(), q.answers()));
            }
        }
        ObjectNode info = JsonFields.JSON.createObjectNode();
        info.put("description", "Synthetic shapes in the VQA v2 format, made by VLAdapt");
        info.put("version", "1.0");
        ObjectNode license = JsonFields.JSON.createObjectNode();
        license.put("name", "generated data, no license restrictions");
        VqaDataset.writeQuestions(root.resolve(VqaDataset.questionsFileName(subtype)), new VqaDataset.Questions(subtype, info, license, qs));
        VqaDataset.writeAnnotations(root.resolve(VqaDataset.annotationsFileName(subtype)), new VqaDataset.Annotations(subtype, info, license, as));
        return qs.size();
    }

    /** VQA questions start with a capital ("What color is the circle?"); question types are lower case. */
    private static String capitalise(String q) {
        return Character.toUpperCase(q.charAt(0)) + q.substring(1);
    }

    // ---------------------------------------------------------------- scenes.json
    /**
     * {"&lt;image id&gt;": {"file", "split", "description", "objects": [{"shape", "color", "size",
     * "cell", "row", "col", "position"}]}}: the ground truth, by name, for pretraining and checks.
     */
    private static void writeScenes(Path file, List<Sample> samples) throws IOException {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        for (Sample s : samples) {
            ObjectNode n = root.putObject(String.valueOf(s.imageId()));
            n.put("file", s.subtype() + "/" + VqaDataset.imageFileName(s.subtype(), s.imageId()));
            n.put("split", s.karpathySplit());
            n.put("description", s.description());
            ArrayNode objs = n.putArray("objects");
            for (SyntheticScene.Obj o : s.scene().objects()) {
                objs.addObject().put("shape", o.shapeName()).put("color", o.colorName()).put("size", o.sizeName()).put("cell", o.cell())
                        .put("row", o.row()).put("col", o.col()).put("position", o.position());
            }
        }
        JsonFields.write(file, root);
    }

    /** scenes.json of a dataset written here: image id to scene. */
    public static Map<Long, SyntheticScene> readScenes(Path root) {
        Path file = root.resolve("scenes.json");
        JsonFields f = new JsonFields(file);
        JsonNode all = f.object(f.read());
        Map<Long, SyntheticScene> out = new LinkedHashMap<>();
        for (var it = all.fields(); it.hasNext(); ) {
            var e = it.next();
            List<SyntheticScene.Obj> objs = f.objects(e.getValue(), e.getKey(), "objects", (o, w) -> new SyntheticScene.Obj(
                    index(f, SyntheticScienceQa.SHAPES, f.text(o, w, "shape"), w + ".shape"),
                    index(f, SyntheticScienceQa.COLORS, f.text(o, w, "color"), w + ".color"),
                    (int) f.integer(o, w, "cell"), f.text(o, w, "size").equals("big")));
            try {
                out.put(Long.parseLong(e.getKey()), new SyntheticScene(objs));
            } catch (NumberFormatException x) {
                throw f.error("key '" + e.getKey() + "' is not an image id");
            }
        }
        return out;
    }

    private static int index(JsonFields f, List<String> names, String name, String where) {
        int i = names.indexOf(name);
        if (i < 0) throw f.error(where + " is '" + name + "', expected one of " + names);
        return i;
    }
}
