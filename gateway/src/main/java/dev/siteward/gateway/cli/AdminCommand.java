package dev.siteward.gateway.cli;

import dev.siteward.gateway.admins.Admin;
import dev.siteward.gateway.admins.AdminCredential;
import dev.siteward.gateway.admins.AdminRole;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code siteward admin ...}: the people and automation that operate the gateway, each with their own certificate
 * and one role. Works on the data dir, or through the running gateway's admin API (as the bootstrap admin).
 */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "Admins and their roles.",
        subcommands = {AdminCommand.Add.class, AdminCommand.ListAdmins.class, AdminCommand.Revoke.class,
                AdminCommand.Renew.class})
public final class AdminCommand implements Runnable {

    /** The files of a credential bundle, the layout of {@code <data-dir>/admin/}. */
    static final String CHAIN_FILE = "admin.pem";
    static final String KEY_FILE = "admin-key.pem";
    static final String ROOT_FILE = "root.pem";
    /** The gateway's URL for named admins on their own machines ({@code --admin-dir} alone is then enough). */
    static final String URL_FILE = DataDir.GATEWAY_URL_FILE;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: add, list, revoke or renew");
    }

    /** Options shared by every admin command. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        static String name(String name) {
            return SpiffeId.requireName(name, "admin name");
        }
    }

    /** Commands that hand out a credential bundle: a key made here, the certificate from the CA. */
    abstract static class Issuing extends Base {
        @Option(names = "--ttl", paramLabel = "DURATION",
                description = "Certificate lifetime, e.g. 30d (default: the admin profile's 90d).")
        String ttl;

        @Option(names = "--out", paramLabel = "DIR",
                description = "Write the bundle to DIR (admin.pem, admin-key.pem mode 0600, root.pem) instead of "
                        + "printing it.")
        Path outDir;

        Duration ttl() {
            return ttl == null ? null : DurationText.parse(ttl);
        }

        /** Refuses an --out directory that already holds a bundle, before anything is issued. */
        void checkOut() {
            if (outDir == null) {
                return;
            }
            for (String f : List.of(CHAIN_FILE, KEY_FILE, ROOT_FILE, URL_FILE)) {
                if (Files.exists(outDir.resolve(f))) {
                    throw CliException.badInput(outDir.resolve(f) + " exists; choose an empty directory");
                }
            }
            if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
                throw CliException.badInput(outDir + " is not a directory");
            }
        }

        /**
         * Prints the bundle, or writes it to {@code --out}: the chain, the key (0600), the site root and — when the
         * gateway's URL is known ({@code gatewayUrl}, from {@code --gateway-url} or the device listener's advertised
         * address) — {@code gateway.url}, so the admin needs only {@code --admin-dir} on their own machine.
         */
        int deliver(AdminCredential credential, KeyPair key, String gatewayUrl) throws IOException {
            String keyPem = KeyMaterial.toPem(key.getPrivate());
            Admin a = credential.admin();
            if (outDir == null) {
                out().println("# admin " + a.name() + " (role " + a.role() + "), certificate " + a.serial()
                        + " valid until " + a.notAfter() + ": certificate chain, private key, site root");
                if (gatewayUrl != null) {
                    out().println("# gateway " + gatewayUrl + " (siteward --gateway-url)");
                }
                out().print(credential.chain());
                out().print(keyPem);
                out().print(credential.root());
                out().flush();
                spec.commandLine().getErr().println("siteward: the private key is in the output above: "
                        + "hand it over privately and do not keep a copy");
                return 0;
            }
            Path dir = SecureFiles.createPrivateDirectory(outDir);
            SecureFiles.createSecret(dir.resolve(KEY_FILE), keyPem.getBytes(StandardCharsets.US_ASCII));
            SecureFiles.writeAtomically(dir.resolve(CHAIN_FILE), credential.chain(), false);
            SecureFiles.writeAtomically(dir.resolve(ROOT_FILE), credential.root(), false);
            if (gatewayUrl != null) {
                SecureFiles.writeAtomically(dir.resolve(URL_FILE), gatewayUrl + "\n", false);
            }
            out().println("admin " + a.name() + " (role " + a.role() + "): certificate " + a.serial()
                    + " valid until " + a.notAfter() + ", bundle in " + dir.toAbsolutePath()
                    + (gatewayUrl == null ? " (gateway URL unknown: they need --gateway-url https://HOST:9443)"
                    : " for gateway " + gatewayUrl));
            return 0;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add an admin with their own certificate and one role: operator, security, "
                    + "publisher-admin or auditor.")
    static final class Add extends Issuing {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--role", required = true, paramLabel = "ROLE",
                description = "operator, security, publisher-admin or auditor.")
        String role;

        @Override
        public Integer call() throws Exception {
            String n = name(name);
            String r = AdminRole.parseAssignable(role).text();
            Duration d = ttl();
            checkOut();
            KeyPair key = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                return deliver(ops.addAdmin(n, r, KeyMaterial.certificationRequest(key, n), d), key,
                        ops.gatewayUrl());
            }
        }
    }

    @Command(name = "renew", mixinStandardHelpOptions = true,
            description = "Issue an admin a new certificate and key (same role); the previous certificate is "
                    + "revoked as superseded.")
    static final class Renew extends Issuing {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            String n = name(name);
            Duration d = ttl();
            checkOut();
            KeyPair key = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                return deliver(ops.renewAdmin(n, KeyMaterial.certificationRequest(key, n), d), key,
                        ops.gatewayUrl());
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke an admin: every certificate they hold is revoked and refused at once.")
    static final class Revoke extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--reason", defaultValue = "affiliationChanged", paramLabel = "REASON",
                description = "RFC 5280 reason name. Default: ${DEFAULT-VALUE}.")
        String reason;

        @Override
        public Integer call() throws Exception {
            String n = name(name);
            RevocationReason.parse(reason);
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                Admin a = ops.revokeAdmin(n, reason);
                out().println("revoked admin " + a.name() + " (role " + a.role() + ")");
                return 0;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List admins.")
    static final class ListAdmins extends Base {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                List<Admin> admins = ops.listAdmins();
                if (json) {
                    out().println(DeviceCommand.JSON.writeValueAsString(admins));
                    return 0;
                }
                out().printf("%-20s %-16s %-8s %-22s %-34s %s%n", "NAME", "ROLE", "STATUS", "CERTIFICATE EXPIRES",
                        "SERIAL", "ADDED BY");
                for (Admin a : admins) {
                    out().printf("%-20s %-16s %-8s %-22s %-34s %s%n", a.name(), a.role(), a.status(), a.notAfter(),
                            a.serial(), a.createdBy());
                }
                return 0;
            }
        }
    }
}
