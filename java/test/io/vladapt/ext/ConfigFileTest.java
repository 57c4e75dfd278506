package io.vladapt.ext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --config files hold option values; the command line still wins. */
class ConfigFileTest {
    @TempDir
    Path tmp;

    static CommandLine.ParseResult parse(String... args) {
        return Main.commandLine(args).parseArgs(args);
    }

    static CommandLine.Model.OptionSpec option(CommandLine.ParseResult r, String name) {
        CommandLine.ParseResult sub = r;
        while (sub.hasSubcommand()) sub = sub.subcommand();
        return sub.commandSpec().findOption(name);
    }

    @Test
    void yamlAndJsonProvideDefaults() throws IOException {
        Path yaml = tmp.resolve("c.yaml"), json = tmp.resolve("c.json");
        Files.writeString(yaml, "# comment\nepochs: 3\nblr: 0.05   # inline comment\nformat: \"QCM-W\"\n");
        Files.writeString(json, "{\"epochs\": 4, \"batch\": 8}");
        CommandLine.ParseResult r = parse("mma", "train", "--config", yaml.toString(), "--lm", "x", "--vit", "y", "--out", "z");
        assertEquals(3, (Integer) option(r, "--epochs").getValue());
        assertEquals(0.05, (Double) option(r, "--blr").getValue(), 0.0);
        assertEquals("QCM-W", option(r, "--format").getValue());
        assertEquals(4, (Integer) option(r, "--batch").getValue(), "untouched options keep their defaults");
        CommandLine.ParseResult j = parse("mma", "train", "--config=" + json, "--epochs", "9", "--lm", "x", "--vit", "y", "--out", "z");
        assertEquals(9, (Integer) option(j, "--epochs").getValue(), "the command line wins");
        assertEquals(8, (Integer) option(j, "--batch").getValue());
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "epochs 3\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("mma", "train", "--config", bad.toString()));
        assertTrue(e.getMessage().contains("line 1 is not 'key: value'"), e.getMessage());
    }
}
