package io.vladapt.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.api.ChatRequest;
import io.vladapt.api.ImageInput;
import io.vladapt.api.Sampling;
import io.vladapt.api.TinyModels;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.testutil.T;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packaging as an application sees it: the built jars and the platform POM are installed into a
 * fresh local repository, examples/chat-app is built against it offline (Maven may read other
 * artifacts only from the build's own local repository, as a file mirror), and its answer is
 * compared with the API's in this JVM.
 */
class ExampleAppIT {
    static final Path BUILD = Path.of(System.getProperty("vladapt.buildDir", "target"));
    static final String VERSION = System.getProperty("vladapt.version", "0.1.0-SNAPSHOT");
    static final String NATIVES = System.getProperty("vladapt.nativesClassifier", "linux-x86_64");
    static final Path USER_REPO = Path.of(System.getProperty("vladapt.localRepository", System.getProperty("user.home") + "/.m2/repository"));

    @Test
    void exampleAppBuildsFromTheInstalledArtifactsOfflineAndAnswersLikeTheApi() throws Exception {
        Path tmp = Files.createTempDirectory("vladapt-example-it");
        try {
            buildAndRun(tmp);
        } finally {
            deleteTree(tmp);                                             // the repository holds copies of every jar: hundreds of MB
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }

    private static void buildAndRun(Path tmp) throws Exception {
        Path repo = tmp.resolve("repo");
        // 1. install: classes jar (with the project POM), natives jar, platform POM
        Path installer = tmp.resolve("install");
        Files.createDirectories(installer);
        Files.writeString(installer.resolve("pom.xml"), installerPom(repo));
        run(installer, List.of("mvn", "-o", "-B", "-q", "-Dmaven.repo.local=" + USER_REPO, "validate"), 300);
        Path installed = repo.resolve("io/vladapt/vladapt/" + VERSION);
        assertTrue(Files.isRegularFile(installed.resolve("vladapt-" + VERSION + "-" + NATIVES + ".jar")), "natives jar not installed");
        assertTrue(Files.isRegularFile(installed.resolve("vladapt-" + VERSION + ".jar")), "classes jar not installed");

        // 2. build the example against that repository, offline; everything else comes from the build's own cache
        Path app = tmp.resolve("chat-app");
        copy(Path.of("examples/chat-app"), app);
        Files.writeString(tmp.resolve("settings.xml"), "<settings><localRepository>" + repo + "</localRepository><mirrors><mirror>"
                + "<id>build-cache</id><mirrorOf>*</mirrorOf><url>" + USER_REPO.toUri() + "</url></mirror></mirrors></settings>");
        run(app, List.of("mvn", "-o", "-B", "-q", "-nsu", "-s", tmp.resolve("settings.xml").toString(), "-Daether.offline.protocols=file",
                "-Dvladapt.version=" + VERSION, "package"), 600);
        List<String> libs;
        try (Stream<Path> s = Files.list(app.resolve("target/lib"))) {
            libs = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(libs.contains("vladapt-" + VERSION + ".jar") && libs.contains("vladapt-" + VERSION + "-linux-x86_64.jar"), libs.toString());
        assertFalse(libs.stream().anyMatch(l -> l.startsWith("jetty-") || l.startsWith("langchain4j")),
                "optional dependencies leaked into an application that does not use them: " + libs);

        // 3. run it and compare with the API in this JVM
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        TinyModels t = TinyModels.get();
        Path image = tmp.resolve("picture.png");
        Files.write(image, TinyModels.png(9, 40, 30));
        String expected;
        try (VisionLanguageModel m = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).load()) {
            expected = m.generate(ChatRequest.of(ImageInput.of(image), "what is this").withSampling(Sampling.greedy(10))).text();
        }
        String out = run(tmp, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                app.resolve("target/chat-app.jar").toString(), t.llm.toString(), t.vit.toString(), t.adapter.toString(), image.toString(),
                "what is this", "10"), 300);
        assertEquals(expected + "\n", out);
    }

    private static String installerPom(Path repo) {
        String root = Path.of("").toAbsolutePath().toString();
        String exec = "<execution><id>%s</id><phase>validate</phase><goals><goal>install-file</goal></goals><configuration>"
                + "<localRepositoryPath>" + repo + "</localRepositoryPath>%s</configuration></execution>";
        return "<project><modelVersion>4.0.0</modelVersion><groupId>it</groupId><artifactId>installer</artifactId><version>1</version>"
                + "<packaging>pom</packaging><build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>"
                + "<artifactId>maven-install-plugin</artifactId><version>3.1.2</version><executions>"
                + String.format(exec, "classes", "<file>" + BUILD.resolve("vladapt.jar") + "</file><pomFile>" + root + "/pom.xml</pomFile>")
                + String.format(exec, "natives", "<file>" + BUILD.resolve("vladapt-" + NATIVES + ".jar") + "</file><groupId>io.vladapt</groupId>"
                        + "<artifactId>vladapt</artifactId><version>" + VERSION + "</version><packaging>jar</packaging><classifier>" + NATIVES
                        + "</classifier><generatePom>false</generatePom>")
                + String.format(exec, "platform", "<file>" + BUILD.resolve("platform/vladapt-platform.pom") + "</file><pomFile>"
                        + BUILD.resolve("platform/vladapt-platform.pom") + "</pomFile>")
                + "</executions></plugin></plugins></build></project>";
    }

    private static String run(Path dir, List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("vladapt-it", ".log");
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(done && p.exitValue() == 0, String.join(" ", cmd) + " failed in " + dir + ":\n" + out);
        return out;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.toString().contains(File.separator + "target")) continue;
                Path dst = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dst);
                else Files.copy(p, dst);
            }
        }
    }
}
