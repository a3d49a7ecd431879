package dev.siteward.gateway.cli;

import dev.siteward.gateway.audit.AuditController;
import dev.siteward.gateway.audit.AuditExport;
import dev.siteward.gateway.audit.AuditVerification;
import dev.siteward.pki.PemCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward audit ...}: the tamper-evident audit log (docs/audit.md). */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Tamper-evident audit log.",
        subcommands = {AuditCommand.Verify.class, AuditCommand.Export.class})
public final class AuditCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: verify or export");
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check the audit log's chain, signed checkpoints and signed head file; report the first "
                    + "record changed, removed or reordered, or a missing tail (exit 1). With --file, check an "
                    + "export instead, trusting only --root.")
    static final class Verify implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;
        @Option(names = "--file", paramLabel = "FILE", description = "An export (siteward audit export) to check.")
        Path file;
        @Option(names = "--root", paramLabel = "ROOT.pem",
                description = "The site root certificate to check an export against (with --file).")
        Path root;
        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            AuditVerification v;
            if (file != null) {
                if (root == null) {
                    throw CliException.badInput("--file needs --root (the site root certificate, PEM)");
                }
                X509Certificate anchor = readRoot(root);
                try (InputStream in = Files.newInputStream(file)) {
                    v = AuditExport.verify(in, anchor);
                } catch (java.nio.file.NoSuchFileException e) {
                    throw CliException.badInput("no such file: " + file);
                }
            } else {
                if (root != null) {
                    throw CliException.badInput("--root is for checking an export (--file)");
                }
                try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                    v = ops.verifyAudit();
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(DeviceCommand.JSON.writeValueAsString(AuditController.verificationJson(v)));
            } else if (v.intact()) {
                out.println(v.summary());
            }
            out.flush();
            if (!v.intact()) {
                throw new CliException(CliException.CHECK_FAILED, "audit log NOT intact: " + v.problem());
            }
            return CliException.OK;
        }

        private static X509Certificate readRoot(Path file) {
            try {
                List<X509Certificate> certs = PemCodec.parseCertificates(Files.readString(file));
                if (certs.isEmpty()) {
                    throw CliException.badInput("no certificate in " + file);
                }
                return certs.get(0);
            } catch (IOException | java.security.cert.CertificateException e) {
                throw CliException.badInput("cannot read the root certificate " + file + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write the audit records since a time, with their hashes, the signed checkpoint they "
                    + "start from, the checkpoints among them and the signed head, as NDJSON (check it elsewhere "
                    + "with 'siteward audit verify --file FILE --root root.pem').")
    static final class Export implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;
        @Option(names = "--since", required = true, paramLabel = "T",
                description = "ISO-8601 instant (2026-01-15T10:00:00Z), a date (2026-01-15, UTC midnight) or an "
                        + "age such as 24h or 7d.")
        String since;
        @Option(names = "--out", paramLabel = "FILE",
                description = "Write to this file (atomically, mode 0600) instead of stdout.")
        Path outFile;

        @Override
        public Integer call() throws Exception {
            Instant from = parseSince(since, Instant.now());
            long n;
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                if (outFile == null) {
                    OutputStream stdout = new CommandOutput(spec.commandLine().getOut());
                    n = ops.exportAudit(from, stdout);
                    stdout.close();
                } else {
                    n = writeAtomically(outFile, ops, from);
                    spec.commandLine().getErr().println("siteward: exported " + n + " audit records to " + outFile);
                }
            }
            return CliException.OK;
        }

        private static long writeAtomically(Path target, GatewayOperations ops, Instant from) throws Exception {
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
                    n = ops.exportAudit(from, os);
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

    /** An ISO-8601 instant, a date (UTC midnight) or an age before {@code now} (24h, 7d). */
    static Instant parseSince(String text, Instant now) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notInstant) {
            try {
                return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException notDate) {
                try {
                    return now.minus(DurationText.parse(text));
                } catch (IllegalArgumentException e) {
                    throw CliException.badInput("invalid --since '" + text
                            + "': expected an ISO-8601 instant, a date (2026-01-15) or an age (24h, 7d)");
                }
            }
        }
    }
}
