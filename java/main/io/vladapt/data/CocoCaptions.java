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
        JsonNode root = f.object(f.read());
        JsonNode list = f.array(root, "", "images");
        List<Image> images = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) images.add(image(f, f.element(list, "images", i), "images[" + i + "]"));
        return new CocoCaptions(json, imageRoot, Collections.unmodifiableList(images));
    }

    private static Image image(JsonFields f, JsonNode n, String where) {
        String split = f.text(n, where, "split");
        if (!SPLITS.contains(split)) throw f.error(where + ".split is '" + split + "', expected one of " + SPLITS);
        JsonNode ids = f.array(n, where, "sentids");
        List<Long> sentids = new ArrayList<>();
        for (int k = 0; k < ids.size(); k++) {
            if (!ids.get(k).isIntegralNumber()) throw f.error(where + ".sentids[" + k + "] is not an integer");
            sentids.add(ids.get(k).asLong());
        }
        JsonNode sl = f.array(n, where, "sentences");
        List<Sentence> sentences = new ArrayList<>();
        for (int k = 0; k < sl.size(); k++) {
            String w = where + ".sentences[" + k + "]";
            JsonNode s = f.element(sl, where + ".sentences", k);
            JsonNode tl = f.array(s, w, "tokens");
            List<String> tokens = new ArrayList<>();
            for (int t = 0; t < tl.size(); t++) {
                if (!tl.get(t).isTextual()) throw f.error(w + ".tokens[" + t + "] is not a string");
                tokens.add(tl.get(t).asText());
            }
            sentences.add(new Sentence(List.copyOf(tokens), f.text(s, w, "raw"), f.integer(s, w, "imgid"), f.integer(s, w, "sentid")));
        }
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
        JsonFields f = new JsonFields(json);
        JsonNode list = f.list(f.read());
        List<Result> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = f.element(list, "", i);
            out.add(new Result(f.integer(n, "[" + i + "]", "image_id"), f.text(n, "[" + i + "]", "caption")));
        }
        return out;
    }

    public static void writeResults(Path json, List<Result> results) throws IOException {
        ArrayNode list = JsonFields.JSON.createArrayNode();
        for (Result r : results) list.addObject().put("image_id", r.imageId()).put("caption", r.caption());
        JsonFields.write(json, list);
    }
}
