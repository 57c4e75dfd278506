package io.vladapt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vladapt.testutil.Fixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** CIDEr-D against pycocoevalcap's numbers (fixtures/metrics/cider.json), and properties that must hold anyway. */
class CiderDTest {
    /** The scorer sums in numpy's order; summing in another costs a few ulps, far below this. */
    static final double TOL = 1e-9;

    record Case(String name, Map<String, List<String>> refs, Map<String, String> hyps, double score, Map<String, Double> perImage) {}

    static List<Case> cases() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.dir("metrics").resolve("cider.json").toFile());
        List<Case> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            Map<String, List<String>> refs = new LinkedHashMap<>();
            c.get("refs").fields().forEachRemaining(e -> {
                List<String> rs = new ArrayList<>();
                e.getValue().forEach(r -> rs.add(r.asText()));
                refs.put(e.getKey(), rs);
            });
            Map<String, String> hyps = new LinkedHashMap<>();
            c.get("hyps").fields().forEachRemaining(e -> hyps.put(e.getKey(), e.getValue().asText()));
            Map<String, Double> per = new LinkedHashMap<>();
            c.get("expected").get("per_image").fields().forEachRemaining(e -> per.put(e.getKey(), e.getValue().asDouble()));
            out.add(new Case(c.get("name").asText(), refs, hyps, c.get("expected").get("score").asDouble(), per));
        }
        return out;
    }

    static Case corpus() throws IOException {
        return cases().get(0);
    }

    @Test
    void matchesThePublishedScorer() throws IOException {
        List<Case> cases = cases();
        assertEquals(4, cases.size());
        for (Case c : cases) {
            CiderD.Result r = CiderD.score(c.refs(), c.hyps());
            assertEquals(c.score(), r.score(), TOL, c.name() + ": corpus");
            assertEquals(List.copyOf(c.perImage().keySet()), List.copyOf(r.perImage().keySet()), c.name() + ": image order");
            c.perImage().forEach((id, s) -> assertEquals(s, r.perImage().get(id), TOL, c.name() + ": image " + id));
        }
        assertEquals(1.105983015787177, cases.get(0).score(), 1e-15, "the fixture is the one this test was written against");
    }

    @Test
    void identicalHypothesisBeatsUnrelatedOne() throws IOException {
        Case c = corpus();
        Map<String, String> hyps = new LinkedHashMap<>(c.hyps());
        hyps.put("108", c.refs().get("108").get(2));
        double same = CiderD.score(c.refs(), hyps).perImage().get("108");
        hyps.put("108", c.refs().get("104").get(2));
        double other = CiderD.score(c.refs(), hyps).perImage().get("108");
        assertTrue(same > 1.0 && other < 0.1 * same, "identical " + same + ", another image's caption " + other);
    }

    @Test
    void invariantToImageOrderReferenceOrderAndRepeatedReferences() throws IOException {
        Case c = corpus();
        CiderD.Result base = CiderD.score(c.refs(), c.hyps());
        List<String> ids = new ArrayList<>(c.refs().keySet());
        Collections.shuffle(ids, new Random(7));
        Map<String, List<String>> refs = new LinkedHashMap<>();
        for (String id : ids) {
            List<String> rs = new ArrayList<>(c.refs().get(id));
            Collections.shuffle(rs, new Random(id.hashCode()));
            List<String> doubled = new ArrayList<>(rs);
            doubled.addAll(rs); // every reference twice: the same mean over references, the same document frequencies
            refs.put(id, doubled);
        }
        CiderD.Result moved = CiderD.score(refs, c.hyps());
        assertEquals(base.score(), moved.score(), 1e-12);
        base.perImage().forEach((id, s) -> assertEquals(s, moved.perImage().get(id), 1e-12, "image " + id));
        assertEquals(ids, List.copyOf(moved.perImage().keySet()), "results follow the references' order");
    }

    @Test
    void corpusScoreIsTheMeanOfImageScores() throws IOException {
        CiderD.Result r = CiderD.score(corpus().refs(), corpus().hyps());
        assertEquals(r.perImage().values().stream().mapToDouble(Double::doubleValue).average().orElseThrow(), r.score(), 1e-12);
    }

    @Test
    void aCorpusOfOneImageScoresZero() {
        // idf = log(1) - log(df) = 0 for every n-gram that the image's references contain.
        CiderD.Result r = CiderD.score(Map.of("a", List.of("a red bus", "a bus")), Map.of("a", "a red bus"));
        assertEquals(0.0, r.score());
    }

    @Test
    void rawCaptionsAreTokenizedFirst() throws IOException {
        Case c = corpus();
        Map<String, List<String>> raw = new LinkedHashMap<>(c.refs());
        raw.put("101", List.of("A man riding a wave, on top of a surfboard.", "A surfer rides a large wave in the ocean!",
                "A person on a surfboard riding a wave", "A man surfing on a big, blue wave.", "Surfer in a black wetsuit riding a wave."));
        Map<String, String> hyps = new LinkedHashMap<>(c.hyps());
        hyps.put("101", "A man riding a wave on top of a surfboard.");
        assertEquals(c.perImage().get("101"), CiderD.scoreRaw(raw, hyps).perImage().get("101"), TOL);
    }

    @Test
    void badInputNamesTheImage() {
        Map<String, List<String>> refs = Map.of("7", List.of("a cat"), "8", List.of("a dog"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CiderD.score(refs, Map.of("7", "a cat", "8", "a dog", "9", "a bird")));
        assertTrue(e.getMessage().contains("image 9 has a hypothesis but no references"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CiderD.score(refs, Map.of("7", "a cat")));
        assertTrue(e.getMessage().contains("image 8 has references but no hypothesis"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CiderD.score(Map.of("7", List.of()), Map.of("7", "a cat")));
        assertTrue(e.getMessage().contains("image 7 has no reference captions"), e.getMessage());
        Map<String, String> nullHyp = new LinkedHashMap<>();
        nullHyp.put("7", null);
        nullHyp.put("8", "a dog");
        e = assertThrows(IllegalArgumentException.class, () -> CiderD.score(refs, nullHyp));
        assertTrue(e.getMessage().contains("image 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CiderD.score(Map.of(), Map.of()));
    }
}
