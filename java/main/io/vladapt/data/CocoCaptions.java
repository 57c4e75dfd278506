package io.vladapt.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * COCO captions in Karpathy's split file, dataset_coco.json, as distributed:
 * {"images": [{"filepath", "sentids", "filename", "imgid", "split", "sentences": [{"tokens", "raw",
 * "imgid", "sentid"}], "cocoid"}], "dataset": "coco"}, images at &lt;image root&gt;/filepath/filename
 * (filepath is "train2014" or "val2014"). Splits are train, val, test and restval (the val2014 images
 * outside Karpathy's 5k val and 5k test, which captioning papers train on).
 *
 * <p>Also the COCO caption results format, [{"image_id", "caption"}], which captioning evaluations read.
 */
public final class CocoCaptions {
    public static final List<String> SPLITS = List.of("train", "val", "test", "restval");

    /** One reference caption: raw text, its lower-cased word tokens, its image's imgid, its own id. */
    public record Sentence(List<String> tokens, String raw, long imgid, long sentid) {}

    /** One image entry; imgid is its index in the file, cocoid its COCO id. */
    public record Image(String filepath, List<Long> sentids, String filename, long imgid, String split,
                        List<Sentence> sentences, long cocoid) {
        /** The raw reference captions, in file order. */
        public List<String> captions() {
            return sentences.stream().map(Sentence::raw).toList();
        }
    }

    /** An image of a split with its file and references, ready to train or score on. */
    public record Item(long cocoid, Path image, String split, List<String> captions) {}

    /** One line of a results file: the COCO id of the image and the generated caption. */
    public record Result(long imageId, String caption) {}

    private final Path file, imageRoot;
    private final List<Image> images;

    private CocoCaptions(Path file, Path imageRoot, List<Image> images) {
        this.file = file;
        this.imageRoot = imageRoot;
        this.images = images;
    }

    /** Reads and checks dataset_coco.json; images are looked up under imageRoot when a split is listed. */
    public static CocoCaptions load(Path json, Path imageRoot) {
        JsonFields f = new JsonFields(json);
        List<Image> images = f.objects(f.object(f.read()), "", "images", (n, where) -> image(f, n, where));
        return new CocoCaptions(json, imageRoot, Collections.unmodifiableList(images));
    }

    private static Image image(JsonFields f, JsonNode n, String where) {
        String split = f.text(n, where, "split");
        if (!SPLITS.contains(split)) throw f.error(where + ".split is '" + split + "', expected one of " + SPLITS);
        List<Long> sentids = f.values(n, where, "sentids", JsonNode::isIntegralNumber, "an integer", JsonNode::asLong);
        List<Sentence> sentences = f.objects(n, where, "sentences", (s, w) -> new Sentence(
                f.values(s, w, "tokens", JsonNode::isTextual, "a string", JsonNode::asText), f.text(s, w, "raw"),
                f.integer(s, w, "imgid"), f.integer(s, w, "sentid")));
        if (sentences.isEmpty()) throw f.error(where + ".sentences is empty: an image needs at least one reference caption");
        return new Image(f.text(n, where, "filepath"), List.copyOf(sentids), f.text(n, where, "filename"), f.integer(n, where, "imgid"),
                split, List.copyOf(sentences), f.integer(n, where, "cocoid"));
    }

    public List<Image> images() {
        return images;
    }

    public Path file() {
        return file;
    }

    public Path imagePath(Image im) {
        return imageRoot.resolve(im.filepath()).resolve(im.filename());
    }

    /**
     * The images of a split, in file order, each with its image file (which must exist) and raw
     * captions. With restvalAsTrain, "train" also lists the restval images (the usual training set
     * of captioning papers, 113k images on full COCO).
     */
    public List<Item> split(String split, boolean restvalAsTrain) {
        if (!SPLITS.contains(split)) throw new IllegalArgumentException("no split '" + split + "' in Karpathy's file (has " + SPLITS + ")");
        List<Item> out = new ArrayList<>();
        for (Image im : images) {
            boolean in = im.split().equals(split) || (restvalAsTrain && split.equals("train") && im.split().equals("restval"));
            if (!in) continue;
            Path p = imagePath(im);
            if (!Files.isRegularFile(p)) {
                throw new FormatException(file + ": image imgid " + im.imgid() + " (cocoid " + im.cocoid() + ") is " + p + ", which does not exist");
            }
            out.add(new Item(im.cocoid(), p, im.split(), im.captions()));
        }
        return out;
    }

    /** A reference sentence with Karpathy-style tokens: lower case, punctuation dropped, split on spaces. */
    public static Sentence sentence(String raw, long imgid, long sentid) {
        String words = raw.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}' ]+", " ").strip();
        return new Sentence(words.isEmpty() ? List.of() : List.of(words.split(" +")), raw, imgid, sentid);
    }

    /** Writes images as dataset_coco.json ("dataset": "coco"), fields in the distributed file's order. */
    public static void write(Path json, List<Image> images) throws IOException {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        ArrayNode list = root.putArray("images");
        for (Image im : images) {
            ObjectNode n = list.addObject();
            n.put("filepath", im.filepath());
            ArrayNode ids = n.putArray("sentids");
            im.sentids().forEach(ids::add);
            n.put("filename", im.filename());
            n.put("imgid", im.imgid());
            n.put("split", im.split());
            ArrayNode sl = n.putArray("sentences");
            for (Sentence s : im.sentences()) {
                ObjectNode o = sl.addObject();
                ArrayNode t = o.putArray("tokens");
                s.tokens().forEach(t::add);
                o.put("raw", s.raw());
                o.put("imgid", s.imgid());
                o.put("sentid", s.sentid());
            }
            n.put("cocoid", im.cocoid());
        }
        root.put("dataset", "coco");
        JsonFields.write(json, root);
    }

    // ---------------------------------------------------------------- results
    public static List<Result> readResults(Path json) {
        return JsonFields.readResults(json, "image_id", "caption", Result::new);
    }

    public static void writeResults(Path json, List<Result> results) throws IOException {
        JsonFields.writeResults(json, results, "image_id", Result::imageId, "caption", Result::caption);
    }
}
