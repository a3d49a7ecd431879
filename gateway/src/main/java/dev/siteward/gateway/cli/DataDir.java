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
