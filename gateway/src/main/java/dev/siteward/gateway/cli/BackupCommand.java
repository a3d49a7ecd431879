package dev.siteward.gateway.cli;

import dev.siteward.gateway.backup.BackupManifest;
import dev.siteward.gateway.backup.BackupService;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code siteward backup --out FILE}: an encrypted, consistent backup of the data dir, taken while the gateway
 * serves (through its admin API, bootstrap admin) or from a stopped gateway's data dir. The file is verified in
 * full (passphrase, every digest) before it is kept.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Write an encrypted backup (database snapshot, CA, keys, model repository, policies, audit "
                + "log, configuration; with a manifest of digests). Passphrase from $SITEWARD_BACKUP_PASSPHRASE or "
                + "--backup-passphrase-file.")
public final class BackupCommand implements Callable<Integer> {

    @Mixin
    DataDir dataDir;
    @Mixin
    CaCommand.KeyOptions keys;
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The backup file (must not exist).")
    Path out;

    @Option(names = "--backup-passphrase-file", paramLabel = "FILE",
            description = "File holding the backup passphrase (default: $SITEWARD_BACKUP_PASSPHRASE).")
    Path passphraseFile;

    /** The backup passphrase: at least 12 characters, from the file or the environment. */
    static char[] passphrase(Path file) {
        char[] p = Secrets.resolve(file, "SITEWARD_BACKUP_PASSPHRASE", "backup passphrase");
        if (p == null) {
            throw CliException.badInput("a backup passphrase is required: set SITEWARD_BACKUP_PASSPHRASE or use "
                    + "--backup-passphrase-file");
        }
        if (p.length < 12) {
            throw CliException.badInput("the backup passphrase must have at least 12 characters");
        }
        return p;
    }

    @Override
    public Integer call() throws Exception {
        char[] pass = passphrase(passphraseFile);
        Path target = out.toAbsolutePath().normalize();
        if (Files.exists(target)) {
            throw CliException.badInput(target + " exists; choose a new file");
        }
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw CliException.badInput("no such directory: " + target.getParent());
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                ops.backup(tmp, pass);
            }
            BackupManifest manifest;
            try (InputStream in = Files.newInputStream(tmp)) {
                manifest = BackupService.verify(in, pass);
            } catch (IOException e) {
                throw new CliException(CliException.INTERNAL, "the backup did not verify (" + e.getMessage()
                        + "); nothing was kept", e);
            }
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            SecureFiles.fsyncDirectory(target.getParent());
            spec.commandLine().getOut().println("backup " + target + ": " + manifest.files().size() + " files, "
                    + manifest.certificates() + " certificates, taken " + manifest.createdAt() + " (site "
                    + manifest.trustDomain() + ", root " + manifest.rootFingerprint() + "); verified");
            return CliException.OK;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
