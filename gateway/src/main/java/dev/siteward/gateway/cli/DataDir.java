package dev.siteward.gateway.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import picocli.CommandLine.Option;

/**
 * The {@code --data-dir} option shared by every command: {@code --data-dir DIR}, else {@code SITEWARD_HOME}, else
 * {@code ./siteward-data}. Commands that change state hold {@code <data-dir>/siteward.lock} while they run; a
 * serving gateway holds it for its lifetime.
 */
public final class DataDir {

    public static final String LOCK_FILE = "siteward.lock";

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory (default: $SITEWARD_HOME, else ./siteward-data).")
    Path dataDir;

    @Option(names = "--admin-dir", paramLabel = "DIR",
            description = "Admin credential bundle (admin.pem, admin-key.pem, root.pem) for calls through a running "
                    + "gateway's admin API (default: $SITEWARD_ADMIN_DIR, else <data-dir>/admin, the bootstrap admin).")
    Path adminDir;

    /** Environment variable naming the admin credential bundle when {@code --admin-dir} is not given. */
    public static final String ADMIN_DIR_ENV = "SITEWARD_ADMIN_DIR";

    @Option(names = "--gateway-url", paramLabel = "URL",
            description = "Reach a running gateway's admin API at URL (https://host:9443, its device listener) with "
                    + "the --admin-dir bundle, without a data dir (default: $SITEWARD_GATEWAY_URL, else the bundle's "
                    + "gateway.url when there is no data dir here).")
    String gatewayUrl;

    /** Environment variable with the gateway's URL when {@code --gateway-url} is not given. */
    public static final String GATEWAY_URL_ENV = "SITEWARD_GATEWAY_URL";
    /** The file of a credential bundle that holds the gateway's URL ({@code admin add --out} writes it). */
    public static final String GATEWAY_URL_FILE = "gateway.url";
    /** The device listener's default port, used when a gateway URL names none. */
    static final int DEFAULT_GATEWAY_PORT = 9443;

    /**
     * The running gateway to reach over the network instead of through the data dir, or null: {@code --gateway-url},
     * else {@code SITEWARD_GATEWAY_URL}, else — when a bundle was named with {@code --admin-dir} or
     * {@code SITEWARD_ADMIN_DIR} and the data dir is not a site's data dir (it does not exist, or holds neither a
     * CA nor a database) — the bundle's {@code gateway.url}. A malformed URL is exit 2.
     */
    public java.net.URI remoteGateway() {
        if (gatewayUrl != null) {
            return parseGatewayUrl(gatewayUrl, "--gateway-url");
        }
        String env = System.getenv(GATEWAY_URL_ENV);
        if (env != null && !env.isBlank()) {
            return parseGatewayUrl(env.strip(), GATEWAY_URL_ENV);
        }
        if (!namedAdminDir()) {
            return null;
        }
        Path file = adminDir().resolve(GATEWAY_URL_FILE);
        Path data = path();
        boolean siteDataDir = Files.isDirectory(data.resolve("ca")) || Files.isDirectory(data.resolve("db"));
        if (siteDataDir || !Files.isRegularFile(file)) {
            return null;
        }
        try {
            return parseGatewayUrl(Files.readString(file).strip(), file.toString());
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Parses a gateway URL: {@code https://host[:port]} with an optional trailing {@code /}, nothing else (no user,
     * path, query or fragment); the port defaults to the device listener's {@value #DEFAULT_GATEWAY_PORT}.
     */
    static java.net.URI parseGatewayUrl(String text, String source) {
        java.net.URI u;
        try {
            u = new java.net.URI(text);
        } catch (java.net.URISyntaxException e) {
            throw CliException.badInput(source + ": '" + text + "' is not a URL (want https://host:9443)");
        }
        if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null || u.getRawUserInfo() != null
                || (u.getRawPath() != null && !u.getRawPath().isEmpty() && !"/".equals(u.getRawPath()))
                || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw CliException.badInput(source + ": '" + text + "' is not a gateway URL (want https://host:9443, "
                    + "the gateway's device listener, with no path)");
        }
        int port = u.getPort() < 0 ? DEFAULT_GATEWAY_PORT : u.getPort();
        return java.net.URI.create("https://" + (u.getHost().contains(":") && !u.getHost().startsWith("[")
                ? "[" + u.getHost() + "]" : u.getHost()) + ":" + port);
    }

    /**
     * The data dir's lock, or null when the command must go through a running gateway: one was named
     * ({@link #remoteGateway()}) or a running gateway holds the data dir. Naming a gateway never creates or locks a
     * data dir.
     */
    static Lock lockUnlessRemote(DataDir dataDir) {
        return dataDir.remoteGateway() != null ? null : tryLock(dataDir);
    }

    /**
     * The admin credential bundle used against a running gateway: {@code --admin-dir}, else
     * {@code SITEWARD_ADMIN_DIR}, else {@code <data-dir>/admin} (the bootstrap admin).
     */
    public Path adminDir() {
        return adminDirOf(adminDir, path());
    }

    /** Whether a bundle other than the data dir's bootstrap admin was named. */
    public boolean namedAdminDir() {
        return adminDir != null || envAdminDir() != null;
    }

    static Path adminDirOf(Path option, Path dataDir) {
        if (option != null) {
            return option.toAbsolutePath().normalize();
        }
        Path env = envAdminDir();
        return env != null ? env : dataDir.resolve("admin");
    }

    private static Path envAdminDir() {
        String env = System.getenv(ADMIN_DIR_ENV);
        return env == null || env.isBlank() ? null : Path.of(env).toAbsolutePath().normalize();
    }

    public Path path() {
        if (dataDir != null) {
            return dataDir.toAbsolutePath().normalize();
        }
        String env = System.getenv("SITEWARD_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        return Path.of("siteward-data").toAbsolutePath().normalize();
    }

    /** An exclusive hold on the data dir, released on close. */
    public static final class Lock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException ignored) {
                // the lock goes with the process anyway
            }
        }
    }

    /** The lock, or null when a running gateway (or another command) holds the data dir. */
    static Lock tryLock(DataDir dataDir) {
        try {
            return dataDir.lock();
        } catch (CliException e) {
            if (e.exitCode() == CliException.UNREACHABLE) {
                return null;
            }
            throw e;
        }
    }

    /**
     * Takes the data dir's lock. Fails with exit 3 when a running gateway holds it (commands that change state
     * then go through its admin API).
     */
    public Lock lock() {
        Path dir = path();
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                throw new CliException(CliException.UNREACHABLE, "data dir " + dir
                        + " is held by another siteward process (a running gateway or another command)");
            }
            return new Lock(ch, l);
        } catch (IOException e) {
            throw new CliException(CliException.BAD_INPUT, "cannot use data dir " + dir + ": " + e.getMessage());
        }
    }
}
