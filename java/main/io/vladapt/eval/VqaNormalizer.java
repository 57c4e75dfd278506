package io.vladapt.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The answer normalisation of the official VQA evaluation (GT-Vision-Lab/VQA {@code vqaEval.py}), quirks
 * included, because published VQA numbers depend on them:
 * <ul>
 * <li>punctuation: each of {@code ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !} is deleted when the text has
 *     that character next to a space or has a digit-comma-digit anywhere ("1,000" → "1000"), and replaced by
 *     a space otherwise ("black/white" → "black white"); the apostrophe and colon are left alone;</li>
 * <li>a period is deleted unless a digit follows ("yes." → "yes", "2.5" stays), at most 32 of them: the
 *     scorer passes {@code re.UNICODE} (32) where {@code re.sub} expects its count;</li>
 * <li>then lower-case, number words zero..ten and "none" become digits, articles a/an/the are dropped, and
 *     apostrophe-less contractions get their apostrophe back ("dont" → "don't"); the table is the scorer's,
 *     including its entries that can never match after lower-casing ("Im") and its one reversed entry
 *     ("somebody'd" → "somebodyd").</li>
 * </ul>
 */
public final class VqaNormalizer {
    private static final String PUNCT = ";/[]\"{}()=+\\_-><@`,?!";
    private static final Pattern DIGIT_COMMA_DIGIT = Pattern.compile("\\p{Nd},\\p{Nd}");
    private static final Pattern PERIOD = Pattern.compile("\\.(?!\\p{Nd})");
    private static final int PERIOD_LIMIT = 32;
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
            Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
    private static final List<String> ARTICLES = List.of("a", "an", "the");
    private static final Map<String, String> CONTRACTIONS = contractions();

    private VqaNormalizer() {}

    /** A predicted answer as the scorer compares it: tabs and newlines to spaces, strip, punctuation, words. */
    public static String normalize(String answer) {
        String s = PyText.strip(answer.replace('\n', ' ').replace('\t', ' '));
        return words(punctuation(s));
    }

    /** The punctuation step alone (the only step the scorer applies to ground-truth answers). */
    public static String punctuation(String in) {
        boolean digitComma = DIGIT_COMMA_DIGIT.matcher(in).find();
        String out = in;
        for (char p : PUNCT.toCharArray()) {
            boolean delete = digitComma || in.contains(p + " ") || in.contains(" " + p);
            out = out.replace(String.valueOf(p), delete ? "" : " ");
        }
        Matcher m = PERIOD.matcher(out);
        StringBuilder sb = new StringBuilder();
        int replaced = 0;
        while (replaced < PERIOD_LIMIT && m.find()) {
            m.appendReplacement(sb, "");
            replaced++;
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Lower-case, number words to digits, articles dropped, contractions restored; single spaces. */
    public static String words(String in) {
        List<String> out = new ArrayList<>();
        for (String w : PyText.split(in.toLowerCase(Locale.ROOT))) {
            w = NUMBERS.getOrDefault(w, w);
            if (!ARTICLES.contains(w)) out.add(CONTRACTIONS.getOrDefault(w, w));
        }
        return String.join(" ", out);
    }

    /** Pairs "as written → as the scorer rewrites it", transcribed from the scorer's table. */
    private static Map<String, String> contractions() {
        String table = """
                aint ain't  arent aren't  cant can't  couldve could've  couldnt couldn't  couldn'tve couldn't've
                couldnt've couldn't've  didnt didn't  doesnt doesn't  dont don't  hadnt hadn't  hadnt've hadn't've
                hadn'tve hadn't've  hasnt hasn't  havent haven't  hed he'd  hed've he'd've  he'dve he'd've  hes he's
                howd how'd  howll how'll  hows how's  Id've I'd've  I'dve I'd've  Im I'm  Ive I've  isnt isn't
                itd it'd  itd've it'd've  it'dve it'd've  itll it'll  let's let's  maam ma'am  mightnt mightn't
                mightnt've mightn't've  mightn'tve mightn't've  mightve might've  mustnt mustn't  mustve must've
                neednt needn't  notve not've  oclock o'clock  oughtnt oughtn't  ow's'at 'ow's'at  'ows'at 'ow's'at
                'ow'sat 'ow's'at  shant shan't  shed've she'd've  she'dve she'd've  she's she's  shouldve should've
                shouldnt shouldn't  shouldnt've shouldn't've  shouldn'tve shouldn't've  somebody'd somebodyd
                somebodyd've somebody'd've  somebody'dve somebody'd've  somebodyll somebody'll  somebodys somebody's
                someoned someone'd  someoned've someone'd've  someone'dve someone'd've  someonell someone'll
                someones someone's  somethingd something'd  somethingd've something'd've  something'dve something'd've
                somethingll something'll  thats that's  thered there'd  thered've there'd've  there'dve there'd've
                therere there're  theres there's  theyd they'd  theyd've they'd've  they'dve they'd've  theyll they'll
                theyre they're  theyve they've  twas 'twas  wasnt wasn't  wed've we'd've  we'dve we'd've  weve we've
                werent weren't  whatll what'll  whatre what're  whats what's  whatve what've  whens when's
                whered where'd  wheres where's  whereve where've  whod who'd  whod've who'd've  who'dve who'd've
                wholl who'll  whos who's  whove who've  whyll why'll  whyre why're  whys why's  wont won't
                wouldve would've  wouldnt wouldn't  wouldnt've wouldn't've  wouldn'tve wouldn't've  yall y'all
                yall'll y'all'll  y'allll y'all'll  yall'd've y'all'd've  y'alld've y'all'd've  y'all'dve y'all'd've
                youd you'd  youd've you'd've  you'dve you'd've  youll you'll  youre you're  youve you've
                """;
        String[] t = table.trim().split("\\s+");
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < t.length; i += 2) m.put(t[i], t[i + 1]);
        return Map.copyOf(m);
    }
}
