package dev.siteward.gateway.server;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.ca.SiteCa;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The gateway's own credentials, issued by the site CA and kept in the data dir (keys PKCS#8 PEM, mode 0600):
 * <ul>
 *   <li>{@code gateway/server.pem}, {@code server-key.pem}: the TLS server certificate of both listeners, naming the
 *   host's names and addresses plus {@code localhost}, {@code 127.0.0.1}, {@code ::1} and configured extras;
 *   re-issued when names change or a third of its lifetime is left;</li>
 *   <li>{@code gateway/token-key.pem}: the key that signs enrollment tokens (ES256);</li>
 *   <li>{@code admin/admin.pem}, {@code admin-key.pem}, {@code root.pem}: the first admin credential, which the CLI
 *   uses to reach a running gateway's admin API.</li>
 * </ul>
 */
public final class GatewayCredentials {

    public static final String FIRST_ADMIN = "admin";
    /** The role of the first admin: every role, and managing admins (dev.siteward.gateway.admins.AdminRole). */
    public static final String BOOTSTRAP_ROLE = "bootstrap";

    private final ReloadableKeyManager serverKeys;
    private final KeyPair tokenKey;
    private final String tokenKeyId;
    private volatile X509Certificate adminCertificate;
    private final Path dataDir;
    private final SiteCa ca;
    private final Set<String> serverNames;
    private final Clock clock;

    private GatewayCredentials(ReloadableKeyManager serverKeys, KeyPair tokenKey, String tokenKeyId,
                               X509Certificate adminCertificate, Path dataDir, SiteCa ca, Set<String> serverNames,
                               Clock clock) {
        this.serverKeys = serverKeys;
        this.tokenKey = tokenKey;
        this.tokenKeyId = tokenKeyId;
        this.adminCertificate = adminCertificate;
        this.dataDir = dataDir;
        this.ca = ca;
        this.serverNames = serverNames;
        this.clock = clock;
    }

    /** Loads the credentials, creating or re-issuing what is missing or due. */
    public static GatewayCredentials ensure(Path dataDir, SiteCa ca, Collection<String> serverNames, Clock clock)
            throws IOException, PkiException, GeneralSecurityException {
        Path gw = SecureFiles.createPrivateDirectory(dataDir.resolve("gateway"));
        KeyPair server = keyPair(gw.resolve("server-key.pem"));
        Path serverPem = gw.resolve("server.pem");
        Set<String> names = new LinkedHashSet<>(serverNames);
        List<X509Certificate> chain = Files.exists(serverPem)
                ? new ArrayList<>(PemCodec.parseCertificates(Files.readString(serverPem))) : List.of();
        if (chain.isEmpty() || due(chain.get(0), clock) || !sameNames(chain.get(0), names)
                || ca.registry().find(chain.get(0).getSerialNumber()).map(e -> e.revoked()).orElse(true)
                || !chain.get(0).getPublicKey().equals(server.getPublic())
                || !chain.get(0).getIssuerX500Principal().equals(ca.issuingCertificate().getSubjectX500Principal())) {
            chain = issueServer(ca, server, names);
            SecureFiles.writeAtomically(serverPem, PemCodec.certificates(chain), false);
        }
        KeyPair token = keyPair(gw.resolve("token-key.pem"));
        String kid = keyId(token);

        Path admin = SecureFiles.createPrivateDirectory(dataDir.resolve("admin"));
        KeyPair adminKey = keyPair(admin.resolve("admin-key.pem"));
        Path adminPem = admin.resolve("admin.pem");
        boolean adminDue = true;
        X509Certificate adminCert = null;
        if (Files.exists(adminPem)) {
            adminCert = PemCodec.parseCertificates(Files.readString(adminPem)).get(0);
            X509Certificate c = adminCert;
            // an admin credential from before roles existed (role operator) is re-issued with the bootstrap role
            adminDue = due(c, clock) || !c.getPublicKey().equals(adminKey.getPublic())
                    || ca.registry().find(c.getSerialNumber()).map(e -> e.revoked()
                            || !BOOTSTRAP_ROLE.equals(e.role())).orElse(true);
        }
        if (adminDue) {
            adminCert = issueAdmin(ca, adminKey, adminPem);
        }
        writeRoots(admin, ca);
        return new GatewayCredentials(new ReloadableKeyManager(server.getPrivate(), presented(ca, chain.get(0))),
                token, kid, adminCert, dataDir, ca, names, clock);
    }

    /** {@code admin/root.pem}: every trusted root (two during a root rollover), current first. */
    private static void writeRoots(Path admin, SiteCa ca) throws IOException {
        SecureFiles.writeAtomically(admin.resolve("root.pem"), PemCodec.certificates(ca.trustedRoots()), false);
    }

    /**
     * The chain the TLS listeners present: the server certificate, its issuing CA, the rollover certificates of a
     * root rollover (so that a device or tool that pinned the old root still builds a path), and the trusted roots
     * themselves, so a device bootstrapping by a root's fingerprint can check its pin on the very first connection.
     */
    static X509Certificate[] presented(SiteCa ca, X509Certificate server) {
        List<X509Certificate> presented = new ArrayList<>(ca.servedChain(server));
        presented.addAll(ca.trustedRoots());
        return presented.toArray(new X509Certificate[0]);
    }

    private static List<X509Certificate> issueServer(SiteCa ca, KeyPair key, Set<String> names)
            throws PkiException, GeneralSecurityException {
        List<String> rest = new ArrayList<>(names);
        String primary = rest.remove(0);
        List<String> dns = rest.stream().filter(n -> !isIp(n)).toList();
        List<String> ips = rest.stream().filter(GatewayCredentials::isIp).toList();
        IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(key, primary),
                CertificateProfile.SERVER, primary, dns, ips, null, null));
        return List.of(issued.certificate(), issued.caChain().get(0));
    }

    private static X509Certificate issueAdmin(SiteCa ca, KeyPair key, Path adminPem)
            throws PkiException, IOException, GeneralSecurityException {
        IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(key, FIRST_ADMIN),
                CertificateProfile.ADMIN, FIRST_ADMIN, List.of(), List.of(), null, BOOTSTRAP_ROLE));
        SecureFiles.writeAtomically(adminPem, PemCodec.certificates(List.of(issued.certificate(),
                issued.caChain().get(0))), false);
        return issued.certificate();
    }

    /** A credential the gateway renewed while running. */
    public enum Renewed { SERVER, ADMIN }

    /**
     * Renews what is due while the gateway runs, by the same rule as at start-up (a third of the lifetime left, or
     * revoked): the server certificate gets a new key, is written to the data dir (key first, each file replaced
     * atomically) and served from the next handshake on, no restart; the bootstrap admin keeps its key and gets a
     * new certificate in {@code admin/admin.pem}. A failure leaves the working credential in place.
     *
     * @return what was renewed (empty when nothing was due)
     */
    public synchronized Set<Renewed> renewDue() throws IOException, PkiException, GeneralSecurityException {
        Set<Renewed> renewed = java.util.EnumSet.noneOf(Renewed.class);
        X509Certificate server = serverKeys.chain()[0];
        // also when the issuing CA changed (ca rotate, ca rotate-root): the server moves to the current one at once
        if (due(server, clock) || revoked(ca, server)
                || !server.getIssuerX500Principal().equals(ca.issuingCertificate().getSubjectX500Principal())) {
            KeyPair key = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            List<X509Certificate> chain = issueServer(ca, key, serverNames);
            Path gw = dataDir.resolve("gateway");
            SecureFiles.writeAtomically(gw.resolve("server-key.pem"), KeyMaterial.toPem(key.getPrivate()), true);
            SecureFiles.writeAtomically(gw.resolve("server.pem"), PemCodec.certificates(chain), false);
            serverKeys.replace(key.getPrivate(), presented(ca, chain.get(0)));
            renewed.add(Renewed.SERVER);
        } else if (!java.util.Arrays.equals(serverKeys.chain(), presented(ca, server))) {
            // a root rollover began or ended: the same certificate, with the rollover certificates now due
            serverKeys.replace(serverKeys.getPrivateKey(null), presented(ca, server));
        }
        writeRoots(dataDir.resolve("admin"), ca);
        X509Certificate admin = adminCertificate;
        // also when its issuing CA is no longer trusted (its root was retired): the CLI must keep its way in
        if (due(admin, clock) || revoked(ca, admin) || !ca.issuingCertificates().contains(ca.issuerOf(admin))) {
            Path dir = dataDir.resolve("admin");
            adminCertificate = issueAdmin(ca, keyPair(dir.resolve("admin-key.pem")), dir.resolve("admin.pem"));
            renewed.add(Renewed.ADMIN);
        }
        return renewed;
    }

    /** When the next renewal is due: the earlier of the server's and the bootstrap admin's renewal points. */
    public Instant nextRenewal() {
        return renewalPoint(serverKeys.chain()[0]).isBefore(renewalPoint(adminCertificate))
                ? renewalPoint(serverKeys.chain()[0]) : renewalPoint(adminCertificate);
    }

    private static boolean revoked(SiteCa ca, X509Certificate c) {
        return ca.registry().find(c.getSerialNumber()).map(e -> e.revoked()).orElse(true);
    }

    private static Instant renewalPoint(X509Certificate c) {
        Instant end = c.getNotAfter().toInstant();
        return end.minus(Duration.between(c.getNotBefore().toInstant(), end).dividedBy(3));
    }

    /** The enrollment-token key pair and its key id, created on first use; for commands run without the server. */
    public static KeyPair tokenKey(Path dataDir) throws IOException, GeneralSecurityException {
        return keyPair(SecureFiles.createPrivateDirectory(dataDir.resolve("gateway")).resolve("token-key.pem"));
    }

    public static String keyId(KeyPair key) {
        return HexFormat.of().formatHex(Certificates.sha256(key.getPublic().getEncoded())).substring(0, 16);
    }

    /** Reads a key pair from a PKCS#8 PEM file, or generates one (EC P-256) and writes it with mode 0600. */
    static KeyPair keyPair(Path file) throws IOException, GeneralSecurityException {
        if (Files.exists(file)) {
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(file));
            PublicKey pub = KeyMaterial.publicKeyOf(key);
            return new KeyPair(pub, key);
        }
        KeyPair pair = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        SecureFiles.createSecret(file, KeyMaterial.toPem(pair.getPrivate()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return pair;
    }

    /** Due at two thirds of the lifetime (a third left), as devices renew. */
    private static boolean due(X509Certificate c, Clock clock) {
        return clock.instant().isAfter(renewalPoint(c));
    }

    private static boolean sameNames(X509Certificate c, Set<String> names) {
        Set<String> have = new LinkedHashSet<>();
        try {
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    String v = (String) san.get(1);
                    byte[] ip = isIp(v) ? ipBytes(v) : null;
                    have.add(ip == null ? v : normalizeIp(v));
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        Set<String> want = new LinkedHashSet<>();
        for (String n : names) {
            want.add(isIp(n) ? normalizeIp(n) : n.toLowerCase(java.util.Locale.ROOT));
        }
        return have.equals(want);
    }

    static boolean isIp(String s) {
        return s.matches("\\d{1,3}(\\.\\d{1,3}){3}") || (s.contains(":") && s.matches("[0-9a-fA-F:.]+"));
    }

    private static byte[] ipBytes(String s) {
        try {
            return java.net.InetAddress.getByName(s).getAddress();
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static String normalizeIp(String s) {
        byte[] b = ipBytes(s);
        try {
            return b == null ? s : java.net.InetAddress.getByAddress(b).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return s;
        }
    }

    public ReloadableKeyManager serverKeys() {
        return serverKeys;
    }

    public KeyPair tokenKey() {
        return tokenKey;
    }

    public String tokenKeyId() {
        return tokenKeyId;
    }

    /** The bootstrap admin's certificate ({@code <data-dir>/admin/admin.pem}). */
    public X509Certificate adminCertificate() {
        return adminCertificate;
    }
}
