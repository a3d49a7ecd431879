package dev.siteward.gateway.store;

import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Which database the gateway uses: the embedded H2 in {@code <data-dir>/db} (no URL, the default), or the JDBC URL
 * of a PostgreSQL database with a user and a password (given directly or, better, in a file). Keys
 * {@code siteward.database.url}, {@code .user}, {@code .password}, {@code .password-file}.
 *
 * <p>{@code siteward serve} records the URL, user and password file (never a password) in
 * {@code <data-dir>/gateway/database.properties}, so that CLI commands run on the stopped gateway's data dir open
 * the same database.
 */
public record DatabaseSettings(String url, String user, String password, String passwordFile) {

    public static final String FILE = "gateway/database.properties";
    public static final String PREFIX = "siteward.database.";

    /** The embedded default. */
    public static DatabaseSettings embedded() {
        return new DatabaseSettings(null, null, null, null);
    }

    public boolean isEmbedded() {
        return url == null || url.isBlank();
    }

    /**
     * The settings for CLI commands on a data dir: system properties ({@code -Dsiteward.database.url}), else
     * environment ({@code SITEWARD_DATABASE_URL}, ...), else what {@code siteward serve} recorded in the data dir.
     */
    public static DatabaseSettings resolve(Path dataDir) throws StoreException {
        Properties recorded = new Properties();
        Path file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file)) {
                recorded.load(r);
            } catch (IOException e) {
                throw new StoreException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return new DatabaseSettings(lookup("url", recorded), lookup("user", recorded), lookup("password", null),
                lookup("password-file", recorded));
    }

    private static String lookup(String key, Properties recorded) {
        String v = System.getProperty(PREFIX + key);
        if (v == null || v.isBlank()) {
            v = System.getenv("SITEWARD_DATABASE_" + key.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }
        if ((v == null || v.isBlank()) && recorded != null) {
            v = recorded.getProperty(key);
        }
        return v == null || v.isBlank() ? null : v;
    }

    /** Records the URL, user and password file in the data dir (no password), or removes the record for H2. */
    public void record(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (isEmbedded()) {
            Files.deleteIfExists(file);
            return;
        }
        Properties p = new Properties();
        p.setProperty("url", url);
        if (user != null) {
            p.setProperty("user", user);
        }
        if (passwordFile != null) {
            p.setProperty("password-file", Path.of(passwordFile).toAbsolutePath().toString());
        }
        StringWriter w = new StringWriter();
        p.store(w, "written by siteward serve: the database CLI commands use while the gateway is stopped");
        SecureFiles.writeAtomically(file, w.toString(), true);
    }

    /** The password: given directly, else the first line of the password file, else none. */
    public String effectivePassword() throws StoreException {
        if (password != null) {
            return password;
        }
        if (passwordFile == null) {
            return null;
        }
        try {
            return Files.readString(Path.of(passwordFile)).lines().findFirst().orElse("").strip();
        } catch (IOException e) {
            throw new StoreException("cannot read the database password file " + passwordFile + ": "
                    + e.getMessage(), e);
        }
    }

    /** The URL without credentials, for messages. */
    public String describe() {
        if (isEmbedded()) {
            return "embedded H2";
        }
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    @Override
    public String toString() {
        return "DatabaseSettings[" + describe() + ", user=" + user + "]";
    }
}
