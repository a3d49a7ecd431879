package dev.siteward.gateway.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads secrets from files or the environment; a secret file holds the secret on its first line. */
final class Secrets {

    private Secrets() {
    }

    /** The secret from {@code file} if given, else from the environment variable, else null. */
    static char[] resolve(Path file, String envName, String what) {
        if (file != null) {
            try {
                String text = Files.readString(file, StandardCharsets.UTF_8);
                String line = text.lines().findFirst().orElse("").strip();
                if (line.isEmpty()) {
                    throw CliException.badInput(what + " file " + file + " is empty");
                }
                return line.toCharArray();
            } catch (IOException e) {
                throw CliException.badInput("cannot read " + what + " file " + file);
            }
        }
        String env = System.getenv(envName);
        return env == null || env.isEmpty() ? null : env.toCharArray();
    }
}
