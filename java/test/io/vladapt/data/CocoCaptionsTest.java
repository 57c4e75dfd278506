package io.vladapt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Karpathy's dataset_coco.json and the COCO caption results format: round trips and named errors. */
class CocoCaptionsTest {
    /** A hand-written file in the distributed layout: one train image, one restval image. */
    static final String KARPATHY = """
            {"images": [
              {"filepath": "val2014", "sentids": [770337, 771687], "filename": "COCO_val2014_000000391895.jpg", "imgid": 0,
               "split": "restval", "sentences": [
                 {"tokens": ["a", "man", "with", "a", "red", "helmet"], "raw": "A man with a red helmet.", "imgid": 0, "sentid": 770337},
                 {"tokens": ["man", "riding", "a", "bike"], "raw": "Man riding a bike", "imgid": 0, "sentid": 771687}],
               "cocoid": 391895},
              {"filepath": "train2014", "sentids": [1], "filename": "COCO_train2014_000000000009.jpg", "imgid": 1,
               "split": "train", "sentences": [{"tokens": ["food"], "raw": "Food.", "imgid": 1, "sentid": 1}], "cocoid": 9}
            ], "dataset": "coco"}
            """;

    static Path dataset(Path dir, String json) throws IOException {
        Files.createDirectories(dir.resolve("images/val2014"));
        Files.createDirectories(dir.resolve("images/train2014"));
        Files.write(dir.resolve("images/val2014/COCO_val2014_000000391895.jpg"), new byte[] {1});
        Files.write(dir.resolve("images/train2014/COCO_train2014_000000000009.jpg"), new byte[] {1});
        Path f = dir.resolve("dataset_coco.json");
        Files.writeString(f, json);
        return f;
    }

    @Test
    void readsSplitsWithAndWithoutRestval(@TempDir Path dir) throws IOException {
        CocoCaptions c = CocoCaptions.load(dataset(dir, KARPATHY), dir.resolve("images"));
        assertEquals(2, c.images().size());
        assertEquals(List.of("A man with a red helmet.", "Man riding a bike"), c.images().get(0).captions());
        assertEquals(391895, c.images().get(0).cocoid());
        assertEquals(1, c.split("train", false).size());
        List<CocoCaptions.Item> train = c.split("train", true);
        assertEquals(2, train.size());
        assertEquals("restval", train.get(0).split());
        assertEquals(dir.resolve("images/val2014/COCO_val2014_000000391895.jpg"), train.get(0).image());
        assertEquals(0, c.split("test", true).size());
    }

    @Test
    void writesWhatItReads(@TempDir Path dir) throws IOException {
        CocoCaptions c = CocoCaptions.load(dataset(dir, KARPATHY), dir.resolve("images"));
        Path out = dir.resolve("copy.json");
        CocoCaptions.write(out, c.images());
        assertEquals(c.images(), CocoCaptions.load(out, dir.resolve("images")).images());
        assertTrue(Files.readString(out).startsWith("{\"images\":[{\"filepath\":\"val2014\",\"sentids\":[770337,771687],\"filename\""));
        assertTrue(Files.readString(out).endsWith("],\"dataset\":\"coco\"}"));
        assertEquals(List.of("a", "man", "riding", "a", "bike"), CocoCaptions.sentence("A man, riding a bike.", 0, 0).tokens());
    }

    @Test
    void errorsNameTheFileAndTheField(@TempDir Path dir) throws IOException {
        Path f = dataset(dir, KARPATHY.replace("\"raw\": \"Man riding a bike\", ", ""));
        FormatException e = assertThrows(FormatException.class, () -> CocoCaptions.load(f, dir.resolve("images")));
        assertEquals(f + ": images[0].sentences[1].raw is missing", e.getMessage());

        Path g = dataset(dir, KARPATHY.replace("\"imgid\": 1,\n", "\"imgid\": \"1\",\n"));
        e = assertThrows(FormatException.class, () -> CocoCaptions.load(g, dir.resolve("images")));
        assertEquals(g + ": images[1].imgid is a string, expected an integer", e.getMessage());

        Path h = dataset(dir, KARPATHY.replace("\"split\": \"train\"", "\"split\": \"training\""));
        e = assertThrows(FormatException.class, () -> CocoCaptions.load(h, dir.resolve("images")));
        assertTrue(e.getMessage().contains("images[1].split is 'training'"), e.getMessage());

        Path k = dataset(dir, "[]");
        e = assertThrows(FormatException.class, () -> CocoCaptions.load(k, dir.resolve("images")));
        assertEquals(k + ": the top level is a list, expected an object", e.getMessage());

        assertThrows(FormatException.class, () -> CocoCaptions.load(dir.resolve("absent.json"), dir));
    }

    @Test
    void missingImageIsNamed(@TempDir Path dir) throws IOException {
        CocoCaptions c = CocoCaptions.load(dataset(dir, KARPATHY), dir.resolve("images"));
        Files.delete(dir.resolve("images/train2014/COCO_train2014_000000000009.jpg"));
        FormatException e = assertThrows(FormatException.class, () -> c.split("train", false));
        assertTrue(e.getMessage().contains("cocoid 9") && e.getMessage().contains("COCO_train2014_000000000009.jpg"), e.getMessage());
    }

    @Test
    void resultsRoundTrip(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("captions_val2014_results.json");
        List<CocoCaptions.Result> r = List.of(new CocoCaptions.Result(391895, "a man riding a bike"), new CocoCaptions.Result(9, "food"));
        CocoCaptions.writeResults(f, r);
        assertEquals("[{\"image_id\":391895,\"caption\":\"a man riding a bike\"},{\"image_id\":9,\"caption\":\"food\"}]", Files.readString(f));
        assertEquals(r, CocoCaptions.readResults(f));
        Files.writeString(f, "[{\"image_id\": 1, \"caption\": 5}]");
        FormatException e = assertThrows(FormatException.class, () -> CocoCaptions.readResults(f));
        assertEquals(f + ": [0].caption is a number (5), expected a string", e.getMessage());
    }
}
