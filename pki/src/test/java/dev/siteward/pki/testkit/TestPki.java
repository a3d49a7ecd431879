package dev.siteward.pki.testkit;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.ca.CaInitOptions;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.validation.ChainValidator;
import dev.siteward.pki.validation.CrlSource;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/**
 * A real {@link SiteCa} (encrypted key files, a journal registry, CRLs) in a test's temp dir, driven by a
 * {@link MutableClock}, with helpers that issue device, server, service, admin and publisher identities, and
 * revoked and expired ones; another, untrusted CA is one {@link #otherCa} away.
 *
 * <p>The CA is created {@link #CA_HISTORY} before the clock's time (the clock is moved back for the creation and
 * restored), so that {@link #expiredDevice} can issue a genuinely expired certificate in the past. For TLS tests
 * use a clock at the system time ({@link MutableClock#atSystemTime()}): JSSE checks validity against it. Creating
 * a CA costs about half a second (PBKDF2 on the key files): share one per test class where the tests stay
 * independent.
 *
 * <pre>{@code
 * MutableClock clock = MutableClock.atDefaultStart();
 * try (TestPki pki = TestPki.create(tempDir, clock)) {
 *     TestIdentity device = pki.issueDevice("cam-1");
 *     pki.chainValidator().validate(device.chain(), ChainValidator.Purpose.CLIENT_AUTH);
 * }
 * }</pre>
 */
public final class TestPki implements AutoCloseable {

    /** How long before the clock's time the CA is created. */
    public static final Duration CA_HISTORY = Duration.ofDays(1);
    /** The passphrase of the CA key files unless the builder sets another. */
    public static final String DEFAULT_PASSPHRASE = "test-ca-passphrase";

    private final Path dataDir;
    private final MutableClock clock;
    private final char[] passphrase;
    private SiteCa ca;

    private TestPki(Path dataDir, MutableClock clock, char[] passphrase, SiteCa ca) {
        this.dataDir = dataDir;
        this.clock = clock;
        this.passphrase = passphrase;
        this.ca = ca;
    }

    /** A site CA for trust domain {@code site.local} (P-256 keys, no CRL URL) in {@code dataDir}. */
    public static TestPki create(Path dataDir, MutableClock clock) {
        return builder(dataDir).clock(clock).build();
    }

    /** Starts a builder for a CA in {@code dataDir} (the CA itself goes to {@code dataDir/ca}). */
    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /** Options for {@link TestPki}: site or publisher CA, trust domain, key type, CRL URL, lifetimes, passphrase. */
    public static final class Builder {
        private final Path dataDir;
        private MutableClock clock;
        private String passphrase = DEFAULT_PASSPHRASE;
        private CaKind kind = CaKind.SITE;
        private String trustDomain = CaInitOptions.DEFAULT_TRUST_DOMAIN;
        private KeyType keyType = KeyType.P256;
        private String crlUrl;
        private Duration rootTtl = CaInitOptions.DEFAULT_ROOT_TTL;
        private Duration issuingTtl = CaInitOptions.DEFAULT_ISSUING_TTL;

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        }

        /**
         * The clock the CA runs on (default: a new clock at the current system time). JSSE and {@code openssl}
         * check validity against the system time: keep to {@link MutableClock#atSystemTime()} for TLS tests.
         */
        public Builder clock(MutableClock value) {
            this.clock = value;
            return this;
        }

        /** The key-file passphrase (default {@link #DEFAULT_PASSPHRASE}). */
        public Builder passphrase(String value) {
            this.passphrase = value;
            return this;
        }

        /** Site (default) or publisher CA. */
        public Builder kind(CaKind value) {
            this.kind = value;
            return this;
        }

        public Builder trustDomain(String value) {
            this.trustDomain = value;
            return this;
        }

        public Builder keyType(KeyType value) {
            this.keyType = value;
            return this;
        }

        /** The CRL distribution point put into issued certificates (default: none). */
        public Builder crlUrl(String value) {
            this.crlUrl = value;
            return this;
        }

        public Builder rootTtl(Duration value) {
            this.rootTtl = value;
            return this;
        }

        /** The issuing CA's lifetime; issued certificates never outlive it. */
        public Builder issuingTtl(Duration value) {
            this.issuingTtl = value;
            return this;
        }

        /** Creates the CA; throws {@link IllegalStateException} if the CA refuses (use {@link SiteCa} to test that). */
        public TestPki build() {
            MutableClock c = clock == null ? MutableClock.atSystemTime() : clock;
            char[] secret = passphrase.toCharArray();
            Instant now = c.instant();
            c.set(now.minus(CA_HISTORY));
            try {
                SiteCa created = SiteCa.initialize(dataDir, new CaInitOptions(kind, trustDomain, keyType, null,
                        crlUrl, null, rootTtl, issuingTtl), new CaSecrets(secret.clone(), null), c);
                return new TestPki(dataDir, c, secret, created);
            } catch (PkiException e) {
                throw new IllegalStateException("test CA refused: " + e.code() + ": " + e.getMessage(), e);
            } finally {
                c.set(now);
            }
        }
    }

    /** The CA. After {@link #reopen()} this is the new instance. */
    public SiteCa ca() {
        return ca;
    }

    public MutableClock clock() {
        return clock;
    }

    /** The data dir; the CA's files are in {@code dataDir/ca}. */
    public Path dataDir() {
        return dataDir;
    }

    /** The key-file passphrase (a copy). */
    public char[] passphrase() {
        return passphrase.clone();
    }

    /** The secrets that open this CA. */
    public CaSecrets secrets() {
        return new CaSecrets(passphrase(), null);
    }

    public X509Certificate root() {
        return ca.root();
    }

    /** Closes the CA and opens it again from its files (as a restart would); returns the new instance. */
    public SiteCa reopen() {
        try {
            ca.close();
            ca = SiteCa.open(dataDir, secrets(), clock);
            return ca;
        } catch (PkiException e) {
            throw new IllegalStateException("cannot reopen the test CA: " + e.getMessage(), e);
        }
    }

    /** Issues a device certificate (default lifetime) for a fresh P-256 key. */
    public TestIdentity issueDevice(String deviceId) {
        return issue(CertificateProfile.DEVICE, deviceId);
    }

    /** Issues a certificate of this profile and name (default lifetime, no DNS/IP extras) for a fresh P-256 key. */
    public TestIdentity issue(CertificateProfile profile, String name) {
        KeyPair key = TestKeys.p256();
        return issue(key, new IssueRequest(TestCsr.forKey(key).der(), profile, name, List.of(), List.of(), null,
                null));
    }

    /**
     * Issues a server certificate for a fresh P-256 key: {@code host} is the primary name; each extra name is a
     * DNS name or, when it is an IP literal, an IP address.
     */
    public TestIdentity issueServer(String host, String... extraNames) {
        List<String> dns = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        for (String n : extraNames) {
            if (n.matches("[0-9.]+") || n.contains(":")) {
                ips.add(n);
            } else {
                dns.add(n);
            }
        }
        KeyPair key = TestKeys.p256();
        return issue(key, new IssueRequest(TestCsr.forKey(key).der(), CertificateProfile.SERVER, host, dns, ips,
                null, null));
    }

    /** Issues for a given key pair and request (the request's CSR should be for that key). */
    public TestIdentity issue(KeyPair key, IssueRequest request) {
        try {
            return new TestIdentity(key, ca.issue(request));
        } catch (PkiException e) {
            throw new IllegalStateException("test CA refused to issue: " + e.code() + ": " + e.getMessage(), e);
        }
    }

    /** Issues a device certificate and revokes it ({@code keyCompromise}); the CA's CRL then lists it. */
    public TestIdentity revokedDevice(String deviceId) {
        TestIdentity id = issueDevice(deviceId);
        try {
            ca.revoke(id.serial(), RevocationReason.KEY_COMPROMISE);
        } catch (PkiException e) {
            throw new IllegalStateException("cannot revoke: " + e.getMessage(), e);
        }
        return id;
    }

    /**
     * Issues a device certificate that expired an hour ago: the clock is moved two hours back, a one-hour
     * certificate is issued, and the clock is put back. It is recorded in the registry like any other.
     */
    public TestIdentity expiredDevice(String deviceId) {
        Instant now = clock.instant();
        clock.set(now.minus(Duration.ofHours(2)));
        try {
            KeyPair key = TestKeys.p256();
            return issue(key, IssueRequest.device(TestCsr.forKey(key).der(), deviceId).withTtl(Duration.ofHours(1)));
        } finally {
            clock.set(now);
        }
    }

    /**
     * Creates another, independent site CA in {@code otherDataDir} on the same clock, with the same trust domain
     * and subject names but its own keys: its certificates must not validate against this CA's root.
     */
    public TestPki otherCa(Path otherDataDir) {
        return builder(otherDataDir).clock(clock).passphrase(new String(passphrase))
                .trustDomain(ca.trustDomain()).build();
    }

    /**
     * A CRL source answering from this CA as the gateway would: the current issuing-CA CRL (regenerated when past
     * half its validity) and the root's CRL.
     */
    public CrlSource crlSource() {
        return new CrlSource() {
            @Override
            public Optional<X509CRL> crlFor(X500Principal issuer) {
                try {
                    if (issuer.equals(ca.issuingCertificate().getSubjectX500Principal())) {
                        return Optional.of(ca.crl());
                    }
                    if (issuer.equals(ca.root().getSubjectX500Principal())) {
                        return Optional.of(ca.rootCrl());
                    }
                } catch (PkiException e) {
                    throw new IllegalStateException("test CA cannot produce a CRL: " + e.getMessage(), e);
                }
                return Optional.empty();
            }
        };
    }

    /** A chain validator trusting only this CA's root, with {@link #crlSource()} and this clock. */
    public ChainValidator chainValidator() {
        return new ChainValidator(List.of(ca.root()), crlSource(), clock);
    }

    /** Writes a PKCS#12 trust store (0600) holding this CA's root; returns {@code file}. */
    public Path writeTrustStore(Path file, char[] password) {
        return Pkcs12Stores.writeTrustStore(file, List.of(ca.root()), password);
    }

    @Override
    public void close() {
        try {
            ca.close();
        } catch (PkiException e) {
            throw new IllegalStateException(e);
        }
    }
}
