package io.vladapt.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D as the COCO caption evaluation code computes it (pycocoevalcap {@code cider/cider_scorer.py}),
 * the number captioning papers report as "CIDEr":
 * <ul>
 * <li>n-grams for n = 1..4 of whitespace-split, already tokenized captions;</li>
 * <li>document frequencies counted over the reference sets of the images being scored (an n-gram counts once
 *     per image), idf = log(number of images) - log(max(1, df)); so the score of one image depends on the
 *     whole corpus, and a corpus of a single image scores 0 everywhere;</li>
 * <li>per reference and n: the clipped cosine sum(min(h, r) * r) / (|h| |r|) (0 where a norm is 0), times
 *     the gaussian length penalty exp(-delta^2 / (2 * 6^2));</li>
 * <li>per image: mean over n, mean over references, times 10; corpus score: mean over images.</li>
 * </ul>
 * The scorer's "length" in the penalty is the number of bigrams (words - 1, 0 for an empty caption). Its
 * differences equal word-count differences except against an empty caption, whose cosine is 0 anyway, so no
 * score depends on that choice; it is kept as the scorer has it.
 */
public final class CiderD {
    static final int N = 4;
    static final double SIGMA = 6.0;

    /** The corpus score and, in the order of the references map, each image's score. */
    public record Result(double score, Map<String, Double> perImage) {}

    private CiderD() {}

    /** Scores pre-tokenized captions (lower-case, punctuation removed, tokens separated by whitespace). */
    public static Result score(Map<String, List<String>> refs, Map<String, String> hyps) {
        check(refs, hyps);
        List<List<NgramCounts>> refCounts = new ArrayList<>();
        for (List<String> rs : refs.values()) refCounts.add(rs.stream().map(NgramCounts::of).toList());
        DocFrequency df = new DocFrequency(refCounts);

        Map<String, Double> perImage = new LinkedHashMap<>();
        double sum = 0;
        int i = 0;
        for (Map.Entry<String, List<String>> e : refs.entrySet()) {
            double s = imageScore(df.weigh(NgramCounts.of(hyps.get(e.getKey()))), refCounts.get(i++), df);
            perImage.put(e.getKey(), s);
            sum += s;
        }
        return new Result(sum / refs.size(), perImage);
    }

    /** Scores raw captions after {@link CaptionTokenizer}, as the COCO evaluation tokenizes before scoring. */
    public static Result scoreRaw(Map<String, List<String>> refs, Map<String, String> hyps) {
        check(refs, hyps);
        Map<String, List<String>> r = new LinkedHashMap<>();
        refs.forEach((id, rs) -> r.put(id, rs.stream().map(CaptionTokenizer::tokenize).toList()));
        Map<String, String> h = new LinkedHashMap<>();
        hyps.forEach((id, c) -> h.put(id, CaptionTokenizer.tokenize(c)));
        return score(r, h);
    }

    private static double imageScore(Weighted hyp, List<NgramCounts> refs, DocFrequency df) {
        double[] sumOverRefs = new double[N];
        for (NgramCounts ref : refs) {
            Weighted r = df.weigh(ref);
            double penalty = Math.pow(Math.E, -Math.pow(hyp.length - r.length, 2) / (2 * SIGMA * SIGMA));
            for (int n = 0; n < N; n++) {
                double dot = 0;
                for (Map.Entry<String, Double> g : hyp.vec.get(n).entrySet()) {
                    double rw = r.vec.get(n).getOrDefault(g.getKey(), 0.0);
                    dot += Math.min(g.getValue(), rw) * rw;
                }
                // Only 0/0 is avoided here: with a zero norm the clipped dot product is 0 as well.
                if (hyp.norm[n] != 0 && r.norm[n] != 0) dot /= hyp.norm[n] * r.norm[n];
                sumOverRefs[n] += dot * penalty;
            }
        }
        double mean = 0;
        for (double v : sumOverRefs) mean += v;
        return mean / N / refs.size() * 10.0;
    }

    private static void check(Map<String, List<String>> refs, Map<String, String> hyps) {
        if (refs == null || hyps == null) throw new IllegalArgumentException("references and hypotheses are required");
        if (refs.isEmpty()) throw new IllegalArgumentException("no images to score");
        for (Map.Entry<String, String> h : hyps.entrySet()) {
            if (!refs.containsKey(h.getKey())) throw new IllegalArgumentException("image " + h.getKey() + " has a hypothesis but no references");
            if (h.getValue() == null) throw new IllegalArgumentException("image " + h.getKey() + " has a null hypothesis");
        }
        for (Map.Entry<String, List<String>> r : refs.entrySet()) {
            String id = r.getKey();
            if (!hyps.containsKey(id)) throw new IllegalArgumentException("image " + id + " has references but no hypothesis");
            if (r.getValue() == null || r.getValue().isEmpty()) throw new IllegalArgumentException("image " + id + " has no reference captions");
            if (r.getValue().stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("image " + id + " has a null reference caption");
        }
    }

    /** n-gram counts of one caption per n, in first-seen order (the order the Python scorer sums in). */
    record NgramCounts(List<Map<String, Integer>> byN, int length) {
        static NgramCounts of(String caption) {
            List<String> w = PyText.split(caption);
            List<Map<String, Integer>> byN = new ArrayList<>();
            for (int n = 1; n <= N; n++) {
                Map<String, Integer> c = new LinkedHashMap<>();
                // Tokens hold no whitespace, so a space-joined n-gram is unambiguous.
                for (int i = 0; i + n <= w.size(); i++) c.merge(String.join(" ", w.subList(i, i + n)), 1, Integer::sum);
                byN.add(c);
            }
            return new NgramCounts(byN, Math.max(0, w.size() - 1));
        }
    }

    /** tf-idf weights per n, their norms, and the bigram-count length. */
    record Weighted(List<Map<String, Double>> vec, double[] norm, int length) {}

    /** Document frequency per n-gram over the images' reference sets, and the log corpus size. */
    static final class DocFrequency {
        private final List<Map<String, Integer>> df = new ArrayList<>();
        private final double logImages;

        DocFrequency(List<List<NgramCounts>> refsPerImage) {
            for (int n = 0; n < N; n++) df.add(new HashMap<>());
            for (List<NgramCounts> refs : refsPerImage) {
                for (int n = 0; n < N; n++) {
                    Set<String> seen = new HashSet<>();
                    for (NgramCounts r : refs) seen.addAll(r.byN().get(n).keySet());
                    for (String g : seen) df.get(n).merge(g, 1, Integer::sum);
                }
            }
            logImages = Math.log(refsPerImage.size());
        }

        Weighted weigh(NgramCounts c) {
            List<Map<String, Double>> vec = new ArrayList<>();
            double[] norm = new double[N];
            for (int n = 0; n < N; n++) {
                Map<String, Double> v = new LinkedHashMap<>();
                for (Map.Entry<String, Integer> g : c.byN().get(n).entrySet()) {
                    double w = g.getValue() * (logImages - Math.log(Math.max(1, df.get(n).getOrDefault(g.getKey(), 0))));
                    v.put(g.getKey(), w);
                    norm[n] += w * w;
                }
                vec.add(v);
                norm[n] = Math.sqrt(norm[n]);
            }
            return new Weighted(vec, norm, c.length());
        }
    }
}
