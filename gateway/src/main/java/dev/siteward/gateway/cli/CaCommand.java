package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.CaInitOptions;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.RegistryEntry;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.csr.CsrValidator;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward ca ...}: the site (or publisher) certificate authority. */
@Command(name = "ca", mixinStandardHelpOptions = true, description = "Site and publisher certificate authority.",
        subcommands = {CaCommand.Init.class, CaCommand.Show.class, CaCommand.Issue.class, CaCommand.Revoke.class,
                CaCommand.Crl.class, CaCommand.Rotate.class, CaCommand.RotateRoot.class, CaCommand.RetireRoot.class})
public final class CaCommand implements Runnable {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: init, show, issue, revoke or crl");
    }

    /** Options that unlock the CA keys. */
    static final class KeyOptions {
        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "File holding the CA key passphrase (default: $SITEWARD_CA_PASSPHRASE, else the "
                        + "generated ca/passphrase).")
        Path passphraseFile;

        @Option(names = "--pin-file", paramLabel = "FILE",
                description = "File holding the PKCS#11 user PIN (default: $SITEWARD_PKCS11_PIN).")
        Path pinFile;

        CaSecrets secrets() {
            return new CaSecrets(Secrets.resolve(passphraseFile, "SITEWARD_CA_PASSPHRASE", "passphrase"),
                    Secrets.resolve(pinFile, "SITEWARD_PKCS11_PIN", "PIN"));
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Create a root CA and an issuing CA in the data dir.")
    static final class Init implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--kind", defaultValue = "site", paramLabel = "site|publisher",
                description = "site (devices, servers, services, admins) or publisher (model and policy signers). "
                        + "Default: ${DEFAULT-VALUE}.")
        String kind;

        @Option(names = "--trust-domain", defaultValue = CaInitOptions.DEFAULT_TRUST_DOMAIN, paramLabel = "TD",
                description = "SPIFFE trust domain. Default: ${DEFAULT-VALUE}.")
        String trustDomain;

        @Option(names = "--key-type", defaultValue = "p256", paramLabel = "p256|p384",
                description = "CA key type. Default: ${DEFAULT-VALUE}.")
        String keyType;

        @Option(names = "--pkcs11-config", paramLabel = "FILE",
                description = "SunPKCS11 configuration: generate and keep the CA keys in this token.")
        Path pkcs11Config;

        @Option(names = "--root-key-out", paramLabel = "FILE",
                description = "Export the root key (encrypted) to FILE and remove it from the data dir.")
        Path rootKeyOut;

        @Option(names = "--crl-url", paramLabel = "URL",
                description = "CRL distribution point for issued certificates (default for a site CA: "
                        + "https://<host>:8443/crl).")
        String crlUrl;

        @Override
        public Integer call() throws PkiException {
            CaKind k = CaKind.parse(kind);
            KeyType type = KeyType.parse(keyType);
            SpiffeId.requireTrustDomain(trustDomain);
            if (pkcs11Config != null && !Files.isReadable(pkcs11Config)) {
                throw CliException.badInput("PKCS#11 config not readable: " + pkcs11Config);
            }
            String url = crlUrl;
            if (url == null && k == CaKind.SITE) {
                url = "https://" + hostName() + ":8443/crl";
            }
            if (url != null && !url.matches("https?://[^\\s]+")) {
                throw CliException.badInput("invalid --crl-url '" + url + "': expected an http(s) URL");
            }
            CaSecrets secrets = keys.secrets();
            try (DataDir.Lock lock = dataDir.lock();
                 SiteCa ca = SiteCa.initialize(dataDir.path(), new CaInitOptions(k, trustDomain, type,
                         pkcs11Config, url, rootKeyOut, CaInitOptions.DEFAULT_ROOT_TTL,
                         CaInitOptions.DEFAULT_ISSUING_TTL), secrets, Clock.systemUTC())) {
                PrintWriter out = spec.commandLine().getOut();
                PrintWriter err = spec.commandLine().getErr();
                if (pkcs11Config == null && (secrets.passphrase() == null) && ca.generatedPassphraseFile().isPresent()) {
                    err.println("siteward: warning: no passphrase given; generated one in "
                            + ca.generatedPassphraseFile().get()
                            + " (mode 0600). Move it off this machine or set SITEWARD_CA_PASSPHRASE.");
                }
                out.println("created " + k.cliName() + " CA for trust domain " + trustDomain + " in " + ca.directory());
                out.println("root sha256:" + Certificates.fingerprint(ca.root()).substring("sha256:".length()));
                if (rootKeyOut != null) {
                    out.println("root key exported to " + rootKeyOut + " and removed from the data dir");
                }
                return 0;
            }
        }

        private static String hostName() {
            try {
                return InetAddress.getLocalHost().getHostName().toLowerCase(java.util.Locale.ROOT);
            } catch (IOException e) {
                return "localhost";
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show the CA and its root fingerprint.")
    static final class Show implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Spec
        CommandSpec spec;

        @Option(names = "--pem", description = "Print the issuing CA then the root certificate in PEM.")
        boolean pem;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (SiteCa ca = SiteCa.open(dataDir.path(), CaSecrets.none(), Clock.systemUTC())) {
                if (pem) {
                    out.print(PemCodec.certificates(ca.caChain()));
                    out.flush();
                    return 0;
                }
                X509Certificate root = ca.root();
                X509Certificate issuing = ca.issuingCertificate();
                int issued = 0;
                int revoked = ca.registry().revoked().size();
                for (dev.siteward.pki.CertificateProfile p : dev.siteward.pki.CertificateProfile.values()) {
                    issued += ca.registry().findByProfile(p).size();
                }
                X509CRL crl = readCrl(ca);
                if (json) {
                    ObjectNode n = JSON.createObjectNode();
                    n.put("kind", ca.kind().cliName());
                    n.put("trustDomain", ca.trustDomain());
                    n.put("keyType", ca.config().keyType().cliName());
                    n.put("keyStorage", ca.config().keyStorage());
                    n.put("rootKeyPresent", ca.rootKeyPresent());
                    n.put("rootFingerprint", Certificates.fingerprint(root));
                    n.set("root", certJson(root));
                    n.set("issuing", certJson(issuing));
                    n.put("crlUrl", ca.config().crlUrl());
                    if (crl != null) {
                        n.put("crlNumber", crlNumber(crl));
                        n.put("crlNextUpdate", crl.getNextUpdate().toInstant().toString());
                    }
                    n.put("issued", issued);
                    n.put("revoked", revoked);
                    n.set("roots", rootsJson(ca));
                    out.println(JSON.writeValueAsString(n));
                    return 0;
                }
                out.println("kind           " + ca.kind().cliName());
                out.println("trust domain   " + ca.trustDomain());
                out.println("key type       " + ca.config().keyType().cliName());
                out.println("key storage    " + ca.keyStorageDescription());
                out.println("root           " + root.getSubjectX500Principal().getName() + ", valid until "
                        + root.getNotAfter().toInstant());
                out.println("root key       " + (ca.rootKeyPresent() ? "present" : "not present (kept offline)"));
                out.println("issuing        " + issuing.getSubjectX500Principal().getName() + ", valid until "
                        + issuing.getNotAfter().toInstant());
                for (SiteCa.IssuingGeneration g : ca.generations()) {
                    if (g.current()) {
                        continue;
                    }
                    out.println((g.retired() ? "retired        " : "still trusted  ")
                            + g.certificate().getSubjectX500Principal().getName()
                            + (g.retired() ? ", no longer trusted since " : ", until its last certificate expires ")
                            + g.trustedUntil());
                }
                for (SiteCa.RootState r : ca.rootGenerations()) {
                    if (r.current()) {
                        if (r.crossCertificate() != null) {
                            out.println("root gen       " + r.number() + " ("
                                    + Certificates.fingerprint(r.certificate()) + ")");
                        }
                        continue;
                    }
                    out.println((r.retired() ? "retired root   " : "earlier root   ") + r.number() + " ("
                            + Certificates.fingerprint(r.certificate()) + ")"
                            + (r.retired() ? ", retired" : ", trusted until " + r.trustedUntil()));
                }
                for (SiteCa.RootState r : ca.rootGenerations()) {
                    if (r.crossCertificate() != null && r.trusted()) {
                        out.println("cross cert     root " + r.number() + " signed by root " + (r.number() - 1)
                                + ", serial " + Certificates.serialHex(r.crossCertificate().getSerialNumber())
                                + ", valid until " + r.crossCertificate().getNotAfter().toInstant());
                        out.println("link cert      root " + (r.number() - 1) + " signed by root " + r.number()
                                + ", serial " + Certificates.serialHex(r.linkCertificate().getSerialNumber())
                                + ", valid until " + r.linkCertificate().getNotAfter().toInstant());
                    }
                }
                out.println("crl url        " + (ca.config().crlUrl() == null ? "(none)" : ca.config().crlUrl()));
                if (crl != null) {
                    out.println("crl            number " + crlNumber(crl) + ", next update "
                            + crl.getNextUpdate().toInstant());
                }
                out.println("certificates   " + issued + " issued, " + revoked + " revoked");
                out.println("root " + Certificates.fingerprint(root));
                return 0;
            }
        }

        private static X509CRL readCrl(SiteCa ca) {
            try {
                return PemCodec.parseCrl(Files.readString(ca.directory().resolve("crl.pem")));
            } catch (Exception e) {
                return null;
            }
        }

        private static String crlNumber(X509CRL crl) {
            byte[] ext = crl.getExtensionValue("2.5.29.20");
            if (ext == null) {
                return "0";
            }
            return org.bouncycastle.asn1.x509.CRLNumber.getInstance(
                    org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getCRLNumber().toString();
        }

        private static com.fasterxml.jackson.databind.node.ArrayNode rootsJson(SiteCa ca) {
            com.fasterxml.jackson.databind.node.ArrayNode roots = JSON.createArrayNode();
            for (SiteCa.RootState r : ca.rootGenerations()) {
                ObjectNode n = certJson(r.certificate());
                n.put("generation", r.number());
                n.put("current", r.current());
                n.put("retired", r.retired());
                n.put("trustedUntil", r.trustedUntil().toString());
                if (r.crossCertificate() != null) {
                    n.set("crossCertificate", certJson(r.crossCertificate()));
                    n.set("linkCertificate", certJson(r.linkCertificate()));
                }
                roots.add(n);
            }
            return roots;
        }

        private static ObjectNode certJson(X509Certificate c) {
            ObjectNode n = JSON.createObjectNode();
            n.put("subject", c.getSubjectX500Principal().getName());
            n.put("serial", Certificates.serialHex(c.getSerialNumber()));
            n.put("notBefore", c.getNotBefore().toInstant().toString());
            n.put("notAfter", c.getNotAfter().toInstant().toString());
            n.put("fingerprint", Certificates.fingerprint(c));
            return n;
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Issue a certificate for a CSR (PEM or DER); prints the chain in PEM, leaf first.")
    static final class Issue implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--csr", required = true, paramLabel = "FILE", description = "PKCS#10 request, PEM or DER.")
        Path csr;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Subject subject;

        static final class Subject {
            @Option(names = "--device-id", paramLabel = "ID", description = "Issue a device certificate for ID.")
            String deviceId;

            @ArgGroup(exclusive = false)
            Named named;
        }

        static final class Named {
            @Option(names = "--profile", required = true, paramLabel = "PROFILE",
                    description = "server, service, admin or publisher (device: use --device-id).")
            String profile;

            @Option(names = "--name", required = true, paramLabel = "NAME",
                    description = "Service/admin/publisher name, or the server's host name or address.")
            String name;
        }

        @Option(names = "--dns", split = ",", paramLabel = "NAME", description = "Extra DNS names (server profile).")
        List<String> dns = new ArrayList<>();

        @Option(names = "--ip", split = ",", paramLabel = "ADDR", description = "Extra IP addresses (server profile).")
        List<String> ips = new ArrayList<>();

        @Option(names = "--role", paramLabel = "ROLE", description = "Role recorded for an admin certificate.")
        String role;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "Lifetime, e.g. 30d (default per profile).")
        String ttl;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the PEM chain here instead of stdout.")
        Path outFile;

        @Override
        public Integer call() throws PkiException, IOException {
            CertificateProfile profile;
            String name;
            if (subject.deviceId != null) {
                profile = CertificateProfile.DEVICE;
                name = SpiffeId.requireName(subject.deviceId, "device id");
            } else {
                profile = CertificateProfile.parse(subject.named.profile);
                if (profile == CertificateProfile.DEVICE) {
                    throw CliException.badInput("use --device-id for device certificates");
                }
                name = subject.named.name;
            }
            var duration = ttl == null ? null : DurationText.parse(ttl);
            byte[] der = readCsr(csr);
            String pem;
            DataDir.Lock lock = DataDir.lockUnlessRemote(dataDir);
            if (lock == null) {
                // the gateway holds the data dir: it issues through its admin API
                try (RemoteOperations remote = RemoteOperations.connect(dataDir)) {
                    pem = remote.issue(der, profile, name, dns, ips, ttl, role);
                }
            } else {
                try (lock; SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    LocalOperations.requireTrustedClock(dataDir.path(), Clock.systemUTC());
                    IssuedCertificate issued = ca.issue(new IssueRequest(der, profile, name, dns, ips, duration,
                            role));
                    pem = PemCodec.certificates(List.of(issued.certificate(), issued.caChain().get(0)));
                }
            }
            writeOrPrint(spec, outFile, pem);
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Make a new issuing CA under the same root; certificates of the previous one stay trusted "
                    + "until they expire (devices move over at their normal renewal). Needs the root key.")
    static final class Rotate implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            String subject;
            DataDir.Lock lock = DataDir.lockUnlessRemote(dataDir);
            if (lock == null) {
                try (RemoteOperations remote = RemoteOperations.connect(dataDir)) {
                    subject = remote.rotate();
                }
            } else {
                try (lock; SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    int generation = ca.rotate();
                    subject = ca.issuingCertificate().getSubjectX500Principal().getName();
                    try {
                        LocalOperations.audit(dataDir.path(), ca, AuditEvent.caRotation(ca, generation));
                    } catch (Exception e) { // the rotation is done and must be reported as such
                        spec.commandLine().getErr().println("siteward: warning: the rotation is not in the audit "
                                + "log: " + e.getMessage());
                    }
                }
            }
            spec.commandLine().getOut().println("issuing CA is now " + subject);
            return 0;
        }
    }

    @Command(name = "rotate-root", mixinStandardHelpOptions = true,
            description = "Roll the root over: a new root, a cross certificate (the new root signed by the current "
                    + "root), a link certificate (the current root signed by the new one) and a new issuing CA under "
                    + "the new root. Devices that pinned the current root keep validating through the cross "
                    + "certificate and adopt the new root at their next renewal. Needs the current root key.")
    static final class RotateRoot implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--root-key", paramLabel = "FILE",
                description = "The current root key kept offline (from 'ca init --root-key-out'); gateway stopped.")
        Path rootKey;

        @Option(names = "--root-ttl", paramLabel = "DURATION", description = "Lifetime of the new root (default "
                + "3650d).")
        String rootTtl;

        @Override
        public Integer call() throws Exception {
            java.time.Duration ttl = null;
            if (rootTtl != null) {
                try {
                    ttl = DurationText.parse(rootTtl);
                } catch (IllegalArgumentException e) {
                    throw CliException.badInput("--root-ttl: " + e.getMessage());
                }
            }
            if (rootKey != null && !Files.isReadable(rootKey)) {
                throw CliException.badInput("--root-key: cannot read " + rootKey);
            }
            PrintWriter out = spec.commandLine().getOut();
            DataDir.Lock lock = DataDir.tryLock(dataDir);
            if (lock == null) {
                if (rootKey != null) {
                    throw CliException.badInput("--root-key needs the gateway stopped (the running gateway never "
                            + "reads key files named over its admin API)");
                }
                try (RemoteOperations remote = RemoteOperations.connect(dataDir)) {
                    com.fasterxml.jackson.databind.JsonNode r = remote.rotateRoot(rootTtl);
                    out.println("root is now generation " + r.get("rootGeneration").asInt() + ", "
                            + r.get("rootFingerprint").asText());
                    out.println("issuing CA is now " + r.get("issuing").asText());
                }
            } else {
                try (lock; SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    int generation = ca.rotateRoot(rootKey, ttl);
                    try {
                        LocalOperations.audit(dataDir.path(), ca, AuditEvent.caRootRotation(ca, generation));
                    } catch (Exception e) { // the rollover is done and must be reported as such
                        spec.commandLine().getErr().println("siteward: warning: the root rollover is not in the "
                                + "audit log: " + e.getMessage());
                    }
                    out.println("root is now generation " + generation + ", " + Certificates.fingerprint(ca.root()));
                    out.println("issuing CA is now " + ca.issuingCertificate().getSubjectX500Principal().getName());
                }
            }
            out.println("the previous root stays trusted until its last certificate expires or 'siteward ca "
                    + "retire-root'; devices adopt the new root at their next renewal");
            return 0;
        }
    }

    @Command(name = "retire-root", mixinStandardHelpOptions = true,
            description = "End a root rollover's overlap: earlier roots, and the issuing CAs under them, are no "
                    + "longer trusted or served. Refused while unexpired certificates under them remain, unless "
                    + "--force. (It also happens by itself when the last such certificate expires.)")
    static final class RetireRoot implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Spec
        CommandSpec spec;

        @Option(names = "--force", description = "Retire even though unexpired certificates under an earlier root "
                + "remain; their holders must enroll again.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            int cutOff;
            DataDir.Lock lock = DataDir.tryLock(dataDir);
            if (lock == null) {
                try (RemoteOperations remote = RemoteOperations.connect(dataDir)) {
                    cutOff = remote.retireRoot(force);
                }
            } else {
                try (lock; SiteCa ca = SiteCa.open(dataDir.path(), CaSecrets.none(), Clock.systemUTC())) {
                    cutOff = ca.retireRoots(force);
                    try {
                        LocalOperations.audit(dataDir.path(), ca, AuditEvent.caRootRetirement(ca, cutOff));
                    } catch (Exception e) {
                        spec.commandLine().getErr().println("siteward: warning: the root retirement is not in the "
                                + "audit log: " + e.getMessage());
                    }
                }
            }
            spec.commandLine().getOut().println("earlier roots retired" + (cutOff > 0 ? "; " + cutOff
                    + " unexpired certificate(s) under them are no longer trusted" : ""));
            return 0;
        }
    }

    /** Writes the text to the file atomically when one is given, else prints it on stdout. */
    static void writeOrPrint(CommandSpec spec, Path outFile, String text) throws IOException {
        if (outFile != null) {
            SecureFiles.writeAtomically(outFile, text, false);
        } else {
            spec.commandLine().getOut().print(text);
            spec.commandLine().getOut().flush();
        }
    }

    /** Reads a CSR file in PEM or DER, refusing oversized input before decoding it. */
    static byte[] readCsr(Path file) {
        try {
            long size = Files.size(file);
            if (size > 4L * CsrValidator.MAX_CSR_BYTES) {
                throw CliException.badInput("CSR file " + file + " is " + size + " bytes; the limit is "
                        + CsrValidator.MAX_CSR_BYTES + " bytes of DER");
            }
            byte[] raw = Files.readAllBytes(file);
            String text = new String(raw, StandardCharsets.US_ASCII);
            if (text.contains("-----BEGIN")) {
                List<byte[]> blocks = PemCodec.decodeAll(text, "CERTIFICATE REQUEST");
                if (blocks.isEmpty()) {
                    blocks = PemCodec.decodeAll(text, "NEW CERTIFICATE REQUEST");
                }
                if (blocks.size() != 1) {
                    throw CliException.badInput("CSR file " + file + " holds no single CERTIFICATE REQUEST block");
                }
                return blocks.get(0);
            }
            return raw;
        } catch (java.nio.file.NoSuchFileException e) {
            throw CliException.badInput("CSR file not found: " + file);
        } catch (IOException e) {
            throw CliException.badInput("cannot read CSR file " + file + ": " + e.getMessage());
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a certificate by serial, or every current certificate of a device, and update the CRL.")
    static final class Revoke implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Option(names = "--serial", paramLabel = "HEX", description = "Serial number in hex.")
            String serial;

            @Option(names = "--device-id", paramLabel = "ID", description = "Revoke every current certificate of ID.")
            String deviceId;
        }

        @Option(names = "--reason", defaultValue = "unspecified", paramLabel = "REASON",
                description = "RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, affiliationChanged, "
                        + "privilegeWithdrawn, cACompromise, unspecified. Default: ${DEFAULT-VALUE}.")
        String reason;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            RevocationReason why = RevocationReason.parse(reason);
            var serial = target.serial == null ? null : Certificates.parseSerial(target.serial);
            if (target.deviceId != null) {
                SpiffeId.requireName(target.deviceId, "device id");
            }
            List<Map<String, String>> revoked = new ArrayList<>();
            if (siteCa(dataDir)) {
                // a site CA's revocations also update the device registry and, when the gateway runs, cut the
                // device's live connections: go through the gateway's operations
                try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                    if (serial != null) {
                        revoked.add(ops.revokeSerial(Certificates.serialHex(serial), why.rfcName()));
                    } else {
                        revoked.addAll(ops.revokeDevice(target.deviceId, why.rfcName()));
                    }
                }
            } else {
                try (DataDir.Lock lock = dataDir.lock();
                     SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    List<RegistryEntry> entries = serial != null ? List.of(ca.revoke(serial, why))
                            : ca.revokeAll(CertificateProfile.DEVICE, target.deviceId, why);
                    for (RegistryEntry e : entries) {
                        revoked.add(dev.siteward.gateway.admin.AdminController.revoked(e));
                    }
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writeValueAsString(revoked));
            } else {
                for (Map<String, String> e : revoked) {
                    out.println("revoked " + e.get("serial") + " (" + e.get("profile") + " " + e.get("name") + ", "
                            + e.get("reason") + ")");
                }
            }
            return 0;
        }
    }

    /** True when the data dir holds a site CA (whose revocations also concern the device registry). */
    static boolean siteCa(DataDir dataDir) throws PkiException {
        try (SiteCa ca = SiteCa.open(dataDir.path(), CaSecrets.none(), Clock.systemUTC())) {
            return ca.kind() == CaKind.SITE;
        }
    }

    @Command(name = "crl", mixinStandardHelpOptions = true,
            description = "Print the current CRL in PEM (regenerated first when due).")
    static final class Crl implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the CRL here instead of stdout.")
        Path outFile;

        @Option(names = "--root", description = "The root's CRL (revoked issuing CAs) instead of the issuing CA's.")
        boolean root;

        @Option(names = "--root-key", paramLabel = "FILE",
                description = "With --root: re-sign the root CRL now with the root key kept offline (the file "
                        + "written by ca init --root-key-out).")
        Path rootKey;

        @Override
        public Integer call() throws Exception {
            if (rootKey != null && !root) {
                throw CliException.badInput("--root-key goes with --root");
            }
            String pem;
            DataDir.Lock lock = DataDir.lockUnlessRemote(dataDir);
            if (lock == null) {
                if (rootKey != null) {
                    throw new CliException(CliException.UNREACHABLE, "stop the gateway to re-sign the root CRL "
                            + "with the offline root key");
                }
                try (RemoteOperations remote = RemoteOperations.connect(dataDir)) {
                    pem = remote.crl(root);
                }
            } else {
                try (lock; SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    pem = PemCodec.crl(root ? ca.rootCrl(rootKey) : ca.crl());
                }
            }
            writeOrPrint(spec, outFile, pem);
            return 0;
        }
    }
}
