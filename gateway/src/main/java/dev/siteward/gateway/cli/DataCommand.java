package dev.siteward.gateway.cli;

import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward data ...}: device data under retention rules (docs/retention.md). */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Device data kept under retention rules.",
        subcommands = {DataCommand.Export.class})
public final class DataCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: export");
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write a class's records since a time as NDJSON, with only what the retention rules let "
                    + "leave the site: the export fields, or per-device aggregates for aggregates-only classes.")
    static final class Export implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;
        @Option(names = "--class", required = true, paramLabel = "C",
                description = "The data class: sensor-readings, inference-results, action-decisions, device-reports, "
                        + "device-logs or blobs.")
        String dataClass;
        @Option(names = "--since", required = true, paramLabel = "T",
                description = "ISO-8601 instant (2026-01-15T10:00:00Z), a date (2026-01-15, UTC midnight) or an "
                        + "age such as 24h or 7d.")
        String since;
        @Option(names = "--out", paramLabel = "FILE",
                description = "Write to this file (atomically, mode 0600) instead of stdout.")
        Path outFile;

        @Override
        public Integer call() throws Exception {
            Instant from = AuditCommand.parseSince(since, Instant.now());
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                if (outFile == null) {
                    OutputStream stdout = new CommandOutput(spec.commandLine().getOut());
                    run(ops, from, stdout);
                    stdout.close();
                } else {
                    long n = writeAtomically(outFile, ops, from);
                    spec.commandLine().getErr().println("siteward: exported " + n + " lines of " + dataClass
                            + " to " + outFile);
                }
            }
            return CliException.OK;
        }

        private long run(GatewayOperations ops, Instant from, OutputStream out) throws Exception {
            try {
                return ops.exportData(dataClass, from, out);
            } catch (dev.siteward.gateway.GatewayException e) {
                throw CliException.badInput(e.getMessage());
            }
        }

        private long writeAtomically(Path target, GatewayOperations ops, Instant from) throws Exception {
            Path dir = target.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir)) {
                throw CliException.badInput("no such directory: " + dir);
            }
            Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
            try {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                long n;
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    OutputStream os = Channels.newOutputStream(ch);
                    n = run(ops, from, os);
                    os.flush();
                    ch.force(true);
                }
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                dev.siteward.pki.SecureFiles.fsyncDirectory(dir);
                return n;
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
