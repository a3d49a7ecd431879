package dev.siteward.gateway.cli;

import dev.siteward.gateway.backup.BackupArchive;
import dev.siteward.gateway.backup.BackupService;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code siteward restore FILE --data-dir DIR}: brings a site back from a backup on new hardware. Exit 0 restored;
 * 1 the backup does not verify (wrong passphrase, changed, cut short) or is older than the data dir it would
 * replace (without --force); 2 bad input; 3 a gateway runs on DIR.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore a backup into a new (or, with --force, an existing) data dir. Every file is checked "
                + "against the manifest before anything is put in place; tokens unused at backup time are voided "
                + "and the token key replaced (token epoch).")
public final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The backup file.")
    Path file;

    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The data dir to restore into.")
    Path dataDir;

    @Option(names = "--backup-passphrase-file", paramLabel = "FILE",
            description = "File holding the backup passphrase (default: $SITEWARD_BACKUP_PASSPHRASE).")
    Path passphraseFile;

    @Option(names = "--force", description = "Replace a non-empty data dir (kept beside it), even with an older "
            + "backup.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        char[] pass = BackupCommand.passphrase(passphraseFile);
        if (!Files.isRegularFile(file)) {
            throw CliException.badInput("no such backup file: " + file);
        }
        Path target = dataDir.toAbsolutePath().normalize();
        if (Files.exists(target.resolve(DataDir.LOCK_FILE))) {
            DataDir dd = new DataDir();
            dd.dataDir = target;
            DataDir.Lock lock = DataDir.tryLock(dd);
            if (lock == null) {
                throw new CliException(CliException.UNREACHABLE, "a gateway (or another command) holds " + target
                        + "; stop it before restoring");
            }
            lock.close();
        }
        BackupService.RestoreReport report;
        try (InputStream in = Files.newInputStream(file)) {
            report = BackupService.restore(in, pass, target, force, Clock.systemUTC());
        } catch (BackupArchive.IntegrityException e) {
            throw new CliException(CliException.CHECK_FAILED, "the backup does not verify: " + e.getMessage()
                    + "; nothing was changed", e);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage().contains("older") ? CliException.CHECK_FAILED
                    : CliException.BAD_INPUT, e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        Duration age = Duration.between(report.manifest().createdAt(), Clock.systemUTC().instant());
        out.println("restored " + report.files() + " files into " + target + " from the backup taken "
                + report.manifest().createdAt() + " (" + age.toDays() + "d " + age.toHoursPart() + "h ago; site "
                + report.manifest().trustDomain() + ", root " + report.manifest().rootFingerprint() + ")");
        out.println("token epoch advanced: " + report.tokensVoided() + " unused enrollment token(s) voided, new token "
                + "key at the next start; create new tokens for devices still to enroll");
        if (report.olderThanTarget() != null) {
            spec.commandLine().getErr().println("siteward: warning: " + report.olderThanTarget());
        }
        out.println("enrollments, renewals and revocations after " + report.manifest().createdAt()
                + " are not in this backup: check 'siteward status' and re-revoke anything revoked since");
        return CliException.OK;
    }
}
