package dev.siteward.pki.ca;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.csr.CsrValidator;
import dev.siteward.pki.csr.ValidatedCsr;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A Siteward CA kept in {@code <data-dir>/ca/}: a root CA whose key signs only the issuing CA and the CRLs for it,
 * and an issuing CA that signs end-entity certificates and their CRL. A site CA issues device, server, service
 * and admin certificates; a publisher CA issues publisher certificates only.
 *
 * <p>Files: {@code ca.json} (description), {@code root.pem}, {@code issuing.pem}, {@code root-key.pem} and
 * {@code issuing-key.pem} (encrypted PKCS#8, 0600, absent when keys live in a PKCS#11 token or the root was
 * exported), {@code passphrase} (only when generated at first start), {@code crl.pem}, {@code root-crl.pem},
 * {@code registry.log} (the issued-certificate journal).
 */
public final class SiteCa implements CertificateAuthority, AutoCloseable {

    public static final String DIR = "ca";
    public static final String ROOT = "root";
    public static final String ISSUING = "issuing";
    /** Backdating of notBefore, for devices whose clocks run a little behind. */
    public static final Duration BACKDATE = Duration.ofMinutes(1);
    /** Longest end-entity lifetime accepted from a caller. */
    public static final Duration MAX_TTL = Duration.ofDays(3650);
    public static final int DEFAULT_CRL_VALIDITY_HOURS = 168;
    public static final Duration ROOT_CRL_VALIDITY = Duration.ofDays(365);

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final CaSecrets secrets;
    private final Clock clock;
    /** Every root generation this CA has had, by number; the current one signs new issuing CAs. */
    private final Map<Integer, RootGeneration> rootGenerations = new ConcurrentHashMap<>();
    private volatile RootGeneration currentRoot;
    private final JournalCertificateRegistry registry;
    private final SecureRandom random = new SecureRandom();
    private final Object crlLock = new Object();
    private CaKeyStore keyStore;
    /** Every issuing CA generation this CA has had, by number; the current one signs. */
    private final Map<Integer, Generation> generations = new ConcurrentHashMap<>();
    private volatile Generation current;
    private volatile CaConfig config;

    /**
     * One root generation. Generation 1 lives in {@code root.pem}, {@code root-key.pem}, {@code root-crl.pem};
     * generation n in {@code root-n.pem}, {@code root-n-key.pem}, {@code root-crl-n.pem}, with its rollover
     * certificates (RFC 4210 section 4.4, as served per RFC 7030 section 4.1.3): {@code cross-n.pem}
     * ("NewWithOld": root n's name and key, signed by root n-1) and {@code link-n.pem} ("OldWithNew": root n-1's
     * name and key, signed by root n). Every root generation has the same subject name, so both rollover
     * certificates are self-issued and do not count against the old root's path length constraint.
     */
    private final class RootGeneration {
        final int number;
        final X509Certificate cert;
        final X509Certificate cross;
        final X509Certificate link;
        final byte[] keyId;

        RootGeneration(int number, X509Certificate cert, X509Certificate cross, X509Certificate link) {
            this.number = number;
            this.cert = cert;
            this.cross = cross;
            this.link = link;
            this.keyId = CertificateTemplates.keyIdentifier(SubjectPublicKeyInfo.getInstance(
                    cert.getPublicKey().getEncoded()));
        }

        String keyAlias() {
            return rootAlias(number);
        }

        Path crlFile() {
            return dir.resolve(number == 1 ? "root-crl.pem" : "root-crl-" + number + ".pem");
        }
    }

    static String rootAlias(int number) {
        return number == 1 ? ROOT : ROOT + "-" + number;
    }

    static Path rootCertFile(Path dir, int number) {
        return dir.resolve(number == 1 ? "root.pem" : "root-" + number + ".pem");
    }

    /**
     * One issuing CA generation: its certificate, its key (unlocked on first use), its CRL and per-thread signers.
     * Generation 1 lives in {@code issuing.pem}, {@code issuing-key.pem}, {@code crl.pem}; generation n in
     * {@code issuing-n.pem}, {@code issuing-n-key.pem}, {@code crl-n.pem}.
     */
    private final class Generation {
        final int number;
        final X509Certificate cert;
        final RootGeneration rootGeneration;
        final X500Name name;
        final byte[] keyId;
        final byte[] crlDp;
        final List<X509Certificate> chain;
        final ThreadLocal<ContentSigner> signers = new ThreadLocal<>();
        volatile SigningKey key;
        /** The latest notAfter of the certificates this generation issued (null: none yet). */
        volatile Instant lastIssuedExpiry;
        X509CRL cachedCrl;

        Generation(int number, X509Certificate cert, RootGeneration rootGeneration) throws PkiException {
            this.number = number;
            this.cert = cert;
            this.rootGeneration = rootGeneration;
            this.chain = List.of(cert, rootGeneration.cert);
            try {
                X509CertificateHolder holder = new X509CertificateHolder(cert.getEncoded());
                this.name = holder.getSubject();
                this.keyId = CertificateTemplates.keyIdentifier(holder.getSubjectPublicKeyInfo());
                this.crlDp = config.crlUrl() == null ? null
                        : CertificateTemplates.crlDistributionPoint(crlUrl(config.crlUrl(), number));
            } catch (IOException | CertificateException e) {
                throw new PkiException(Reason.STORAGE, "issuing CA certificate is unreadable", e);
            }
        }

        String keyAlias() {
            return keyAlias(number);
        }

        static String keyAlias(int number) {
            return number == 1 ? ISSUING : ISSUING + "-" + number;
        }

        Path crlFile() {
            return dir.resolve(number == 1 ? "crl.pem" : "crl-" + number + ".pem");
        }

        SigningKey key() throws PkiException {
            SigningKey k = key;
            if (k == null) {
                synchronized (this) {
                    if (key == null) {
                        key = keyStore().load(keyAlias(), cert);
                    }
                    k = key;
                }
            }
            return k;
        }

        ContentSigner signer() throws PkiException {
            ContentSigner s = signers.get();
            if (s == null) {
                s = contentSigner(key());
                signers.set(s);
            }
            return s;
        }
    }

    /** Where the CRL of an issuing generation is published: the CRL URL, with {@code /<n>} from generation 2 on. */
    public static String crlUrl(String base, int generation) {
        return generation == 1 ? base : base + "/" + generation;
    }

    static Path issuingCertFile(Path dir, int number) {
        return dir.resolve(number == 1 ? "issuing.pem" : "issuing-" + number + ".pem");
    }

    private SiteCa(Path dir, CaConfig config, CaSecrets secrets, Clock clock, JournalCertificateRegistry registry)
            throws PkiException {
        this.dir = dir;
        this.config = config;
        this.secrets = secrets;
        this.clock = clock;
        this.registry = registry;
        int currentNumber = config.currentGeneration();
        try {
            for (int n = 1; n <= config.currentRootGeneration(); n++) {
                X509Certificate cert = readCertificate(rootCertFile(dir, n));
                rootGenerations.put(n, new RootGeneration(n, cert,
                        n == 1 ? null : readCertificate(dir.resolve("cross-" + n + ".pem")),
                        n == 1 ? null : readCertificate(dir.resolve("link-" + n + ".pem"))));
            }
            this.currentRoot = rootGenerations.get(config.currentRootGeneration());
            for (int n = 1; n <= currentNumber; n++) {
                Path f = issuingCertFile(dir, n);
                if (Files.exists(f)) {
                    X509Certificate cert = PemCodec.parseCertificates(Files.readString(f)).get(0);
                    generations.put(n, new Generation(n, cert, rootGenerationOf(cert)));
                }
            }
        } catch (IOException | CertificateException e) {
            throw new PkiException(Reason.STORAGE, "cannot read the issuing CA certificates: " + e.getMessage(), e);
        }
        this.current = generations.get(currentNumber);
        if (current == null) {
            throw new PkiException(Reason.STORAGE, "issuing CA generation " + currentNumber + " is missing");
        }
        for (CertificateProfile profile : CertificateProfile.values()) {
            for (RegistryEntry e : registry.findByProfile(profile)) {
                Generation g = generationOrNull(e);
                if (g != null) {
                    noteIssued(g, e.notAfter());
                }
            }
        }
    }

    private static X509Certificate readCertificate(Path file) throws IOException, CertificateException {
        return PemCodec.parseCertificates(Files.readString(file)).get(0);
    }

    /** The root generation whose key signed this CA certificate. */
    private RootGeneration rootGenerationOf(X509Certificate caCert) throws PkiException {
        for (RootGeneration r : rootGenerations.values()) {
            if (r.cert.getSubjectX500Principal().equals(caCert.getIssuerX500Principal())) {
                try {
                    caCert.verify(r.cert.getPublicKey());
                    return r;
                } catch (java.security.GeneralSecurityException e) {
                    // another root generation of the same name
                }
            }
        }
        throw new PkiException(Reason.STORAGE, "no root of this CA signed " + caCert.getSubjectX500Principal());
    }

    /** Keeps a generation's latest issued expiry, which decides when it can be retired. */
    private static void noteIssued(Generation gen, Instant notAfter) {
        synchronized (gen) {
            if (gen.lastIssuedExpiry == null || notAfter.isAfter(gen.lastIssuedExpiry)) {
                gen.lastIssuedExpiry = notAfter;
            }
        }
    }

    /** The CA directory of a data dir. */
    public static Path caDir(Path dataDir) {
        return dataDir.resolve(DIR);
    }

    public static boolean exists(Path dataDir) {
        return Files.exists(caDir(dataDir).resolve("ca.json"));
    }

    /**
     * Creates the root and issuing CA in {@code <dataDir>/ca}. Everything is built in a temporary directory and
     * renamed into place at the end, so a failure leaves no half-made CA behind. Without a passphrase (and
     * without PKCS#11) a random passphrase is generated into {@code ca/passphrase} (0600).
     */
    public static SiteCa initialize(Path dataDir, CaInitOptions options, CaSecrets secrets, Clock clock)
            throws PkiException {
        Path target = caDir(dataDir);
        if (Files.exists(target)) {
            throw new PkiException(Reason.CA_ALREADY_INITIALIZED, "a CA already exists in " + target);
        }
        try {
            SpiffeId.requireTrustDomain(options.trustDomain());
        } catch (IllegalArgumentException e) {
            throw new PkiException(Reason.NAME_INVALID, e.getMessage());
        }
        if (options.rootKeyOut() != null) {
            if (options.pkcs11Config() != null) {
                throw new PkiException(Reason.KEY_UNAVAILABLE,
                        "--root-key-out cannot export a key from a PKCS#11 token; keep the token offline instead");
            }
            Path parent = options.rootKeyOut().toAbsolutePath().getParent();
            if (Files.exists(options.rootKeyOut()) || parent == null || !Files.isDirectory(parent)) {
                throw new PkiException(Reason.NAME_INVALID, "cannot write the root key to " + options.rootKeyOut()
                        + " (file exists or its directory is missing)");
            }
        }
        Path tmp;
        try {
            SecureFiles.createPrivateDirectory(dataDir);
            tmp = Files.createTempDirectory(dataDir, ".ca-init-");
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot create " + dataDir + ": " + e.getMessage(), e);
        }
        boolean done = false;
        try {
            char[] passphrase = secrets.passphrase();
            CaKeyStore keys;
            String labels = null;
            if (options.pkcs11Config() != null) {
                labels = "siteward-" + options.kind().cliName() + "-"
                        + HexFormat.of().formatHex(randomBytes(4)) + "-";
                keys = new Pkcs11CaKeyStore(options.pkcs11Config(), secrets.pkcs11Pin(), labels);
            } else {
                if (passphrase == null || passphrase.length == 0) {
                    passphrase = Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32)).toCharArray();
                    SecureFiles.createSecret(tmp.resolve("passphrase"),
                            (new String(passphrase) + "\n").getBytes(StandardCharsets.UTF_8));
                }
                keys = new FileCaKeyStore(tmp, passphrase);
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            String prefix = options.kind() == CaKind.PUBLISHER ? "Siteward Publisher" : "Siteward";
            SigningKey rootKey = keys.generate(ROOT, options.keyType());
            SubjectPublicKeyInfo rootSpki = SubjectPublicKeyInfo.getInstance(rootKey.publicKey().getEncoded());
            X500Name rootName = CertificateTemplates.commonName(prefix + " Root CA", options.trustDomain());
            byte[] rootKeyId = CertificateTemplates.keyIdentifier(rootSpki);
            X509Certificate rootCert = sign(CertificateTemplates.ca(rootName, null, rootName, randomSerial(),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(options.rootTtl())), rootSpki, 1), rootKey);
            SigningKey issuingKey = keys.generate(ISSUING, options.keyType());
            SubjectPublicKeyInfo issuingSpki = SubjectPublicKeyInfo.getInstance(issuingKey.publicKey().getEncoded());
            X500Name issuingName = CertificateTemplates.commonName(prefix + " Issuing CA 1", options.trustDomain());
            Instant issuingEnd = now.plus(options.issuingTtl());
            if (issuingEnd.isAfter(rootCert.getNotAfter().toInstant())) {
                issuingEnd = rootCert.getNotAfter().toInstant();
            }
            X509Certificate issuingCert = sign(CertificateTemplates.ca(rootName, rootKeyId, issuingName,
                    randomSerial(), Date.from(now.minus(BACKDATE)), Date.from(issuingEnd), issuingSpki, 0), rootKey);
            keys.store(ROOT, rootKey, rootCert);
            keys.store(ISSUING, issuingKey, issuingCert);
            SecureFiles.writeAtomically(tmp.resolve("root.pem"), PemCodec.certificates(List.of(rootCert)), false);
            SecureFiles.writeAtomically(tmp.resolve("issuing.pem"), PemCodec.certificates(List.of(issuingCert)),
                    false);
            X509CRL rootCrl = buildCrl(rootName, rootKeyId, rootKey, List.of(), now, ROOT_CRL_VALIDITY,
                    BigInteger.ONE);
            SecureFiles.writeAtomically(tmp.resolve("root-crl.pem"), PemCodec.crl(rootCrl), false);
            try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(tmp.resolve("registry.log"))) {
                reg.record(new RegistryEntry(rootCert.getSerialNumber(), null, "root", null,
                        rootCert.getNotBefore().toInstant(), rootCert.getNotAfter().toInstant(),
                        rootCert.getEncoded(), null, null));
                reg.record(new RegistryEntry(issuingCert.getSerialNumber(), null, "issuing-1", null,
                        issuingCert.getNotBefore().toInstant(), issuingCert.getNotAfter().toInstant(),
                        issuingCert.getEncoded(), null, null));
            }
            CaConfig config = new CaConfig(CaConfig.FORMAT_VERSION, options.kind(), options.trustDomain(),
                    options.keyType(), options.pkcs11Config() == null ? CaConfig.STORAGE_FILE : CaConfig.STORAGE_PKCS11,
                    options.pkcs11Config() == null ? null : options.pkcs11Config().toAbsolutePath().toString(),
                    labels, options.crlUrl(), DEFAULT_CRL_VALIDITY_HOURS, now, 1, null, null);
            SecureFiles.writeAtomically(tmp.resolve("ca.json"), JSON.writeValueAsBytes(config), false);
            Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            SecureFiles.fsyncDirectory(dataDir);
            done = true;
            SiteCa ca = open(dataDir, new CaSecrets(passphrase, secrets.pkcs11Pin()), clock);
            ca.crl();
            if (options.rootKeyOut() != null) {
                ca.keyStore().exportAndRemove(ROOT, options.rootKeyOut());
            }
            return ca;
        } catch (IOException | CertificateException e) {
            throw new PkiException(Reason.STORAGE, "cannot create the CA: " + e.getMessage(), e);
        } finally {
            if (!done) {
                deleteTree(tmp);
            }
        }
    }

    /** Opens an existing CA. Keys are unlocked on first use, so read-only commands need no passphrase. */
    public static SiteCa open(Path dataDir, CaSecrets secrets, Clock clock) throws PkiException {
        Path dir = caDir(dataDir);
        Path json = dir.resolve("ca.json");
        if (!Files.exists(json)) {
            throw new PkiException(Reason.CA_NOT_INITIALIZED, "no CA in " + dataDir + ": run 'siteward ca init' first");
        }
        try {
            CaConfig config = JSON.readValue(json.toFile(), CaConfig.class);
            if (config.formatVersion() != CaConfig.FORMAT_VERSION) {
                throw new PkiException(Reason.STORAGE, "unsupported CA format version " + config.formatVersion());
            }
            return new SiteCa(dir, config, secrets, clock,
                    JournalCertificateRegistry.open(dir.resolve("registry.log")));
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot read the CA in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static BigInteger randomSerial() {
        return new BigInteger(1, randomBytes(16)).setBit(0);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static void deleteTree(Path p) {
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover temporary directory is never read as a CA
        }
    }

    private synchronized CaKeyStore keyStore() throws PkiException {
        if (keyStore == null) {
            if (CaConfig.STORAGE_PKCS11.equals(config.keyStorage())) {
                keyStore = new Pkcs11CaKeyStore(Path.of(config.pkcs11Config()), secrets.pkcs11Pin(),
                        config.pkcs11Labels());
            } else {
                char[] passphrase = secrets.passphrase();
                Path generated = dir.resolve("passphrase");
                if ((passphrase == null || passphrase.length == 0) && Files.exists(generated)) {
                    try {
                        passphrase = Files.readString(generated).strip().toCharArray();
                    } catch (IOException e) {
                        throw new PkiException(Reason.STORAGE, "cannot read " + generated, e);
                    }
                }
                keyStore = new FileCaKeyStore(dir, passphrase);
            }
        }
        return keyStore;
    }

    /** Unlocks the issuing key now, so that a wrong passphrase or PIN is reported before any work. */
    public void unlock() throws PkiException {
        current.key();
    }

    private static ContentSigner contentSigner(SigningKey key) throws PkiException {
        try {
            return new JcaContentSignerBuilder(key.type().signatureAlgorithm()).setProvider(key.provider())
                    .build(key.privateKey());
        } catch (OperatorCreationException e) {
            throw new PkiException(Reason.INTERNAL, "cannot sign with the CA key", e);
        }
    }

    private static X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder template, SigningKey key)
            throws PkiException {
        try {
            return Certificates.parse(template.build(contentSigner(key)).getEncoded());
        } catch (IOException | CertificateException e) {
            throw new PkiException(Reason.INTERNAL, "cannot sign a CA certificate", e);
        }
    }

    /** A positive serial with 128 random bits, unique in the registry (reserved until recorded or released). */
    private BigInteger newSerial(CertificateRegistry reg) {
        while (true) {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            BigInteger serial = new BigInteger(1, bytes);
            if (serial.signum() > 0 && reg.reserveSerial(serial)) {
                return serial;
            }
        }
    }

    @Override
    public IssuedCertificate issue(IssueRequest request) throws PkiException {
        return issue(request, null);
    }

    /**
     * Issues for a CSR the caller has already checked with {@link CsrValidator} (the gateway checks it before it
     * consumes a token); the check is not repeated when {@code checked} is the result for exactly these bytes.
     */
    public IssuedCertificate issue(IssueRequest request, ValidatedCsr checked) throws PkiException {
        CertificateProfile profile = request.profile();
        if (profile.issuedByPublisherCa() != (config.kind() == CaKind.PUBLISHER)) {
            throw new PkiException(Reason.PROFILE_NOT_ALLOWED, "a " + config.kind().cliName() + " CA does not issue "
                    + profile.cliName() + " certificates");
        }
        if (request.role() != null) {
            if (profile != CertificateProfile.ADMIN) {
                throw new PkiException(Reason.NAME_INVALID, "a role is for admin certificates only");
            }
            if (!SpiffeId.NAME.matcher(request.role()).matches()) {
                throw new PkiException(Reason.NAME_INVALID, "invalid role '" + request.role() + "'");
            }
        }
        CertificateTemplates.Sans sans = CertificateTemplates.sans(profile, config.trustDomain(), request.name(),
                request.dnsNames(), request.ipAddresses());
        Duration ttl = request.ttl() == null ? profile.defaultTtl() : request.ttl();
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new PkiException(Reason.TTL_INVALID, "lifetime must be above zero and at most " + MAX_TTL.toDays()
                    + "d");
        }
        ValidatedCsr csr = checked != null && checked.isFor(request.csrDer()) ? checked
                : CsrValidator.validate(request.csrDer());
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Generation gen = current;
        Instant issuerStart = gen.cert.getNotBefore().toInstant();
        Instant issuerEnd = gen.cert.getNotAfter().toInstant();
        if (!issuerEnd.isAfter(now) || now.isBefore(issuerStart)) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "the issuing CA is not valid at " + now);
        }
        Instant notBefore = now.minus(BACKDATE);
        if (notBefore.isBefore(issuerStart)) {
            notBefore = issuerStart;
        }
        Instant notAfter = now.plus(ttl);
        if (notAfter.isAfter(issuerEnd)) {
            notAfter = issuerEnd;
        }
        String name = profile == CertificateProfile.SERVER ? request.name().toLowerCase(java.util.Locale.ROOT)
                : request.name();
        ContentSigner signer = gen.signer();
        BigInteger serial = newSerial(registry);
        try {
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(csr.spkiDer());
            boolean rsa = "RSA".equals(csr.publicKey().getAlgorithm());
            byte[] der = CertificateTemplates.endEntity(profile, gen.name, gen.keyId, serial,
                    CertificateTemplates.x509Time(notBefore), CertificateTemplates.x509Time(notAfter), name, sans, spki,
                    gen.crlDp, rsa)
                    .build(signer).getEncoded();
            X509Certificate cert = Certificates.parse(der);
            ProfileCheck.check(cert, profile, gen.cert, serial, csr.spkiDer(), sans,
                    gen.crlDp != null && profile != CertificateProfile.PUBLISHER);
            registry.record(new RegistryEntry(serial, profile, name, request.role(), notBefore, notAfter, der, null,
                    null));
            noteIssued(gen, notAfter);
            return new IssuedCertificate(cert, gen.chain);
        } catch (IOException | CertificateException e) {
            throw new PkiException(Reason.INTERNAL, "cannot build the certificate", e);
        } finally {
            registry.releaseSerial(serial);
        }
    }

    @Override
    public RegistryEntry revoke(BigInteger serial, RevocationReason reason) throws PkiException {
        Optional<RegistryEntry> entry = registry.find(serial);
        if (entry.isPresent() && entry.get().profile() == null) {
            throw new PkiException(Reason.PROFILE_NOT_ALLOWED,
                    "serial " + serial.toString(16) + " is a CA certificate; CA certificates are retired by rotation");
        }
        synchronized (crlLock) {
            Generation gen = entry.isPresent() ? generationOf(entry.get()) : current;
            gen.key();
            RegistryEntry revoked = registry.revoke(serial, reason, clock.instant().truncatedTo(ChronoUnit.SECONDS));
            regenerateCrl(gen);
            return revoked;
        }
    }

    @Override
    public List<RegistryEntry> revokeAll(CertificateProfile profile, String name, RevocationReason reason)
            throws PkiException {
        synchronized (crlLock) {
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            List<RegistryEntry> due = new ArrayList<>();
            Set<Generation> affected = new LinkedHashSet<>();
            for (RegistryEntry e : registry.findByName(profile, name)) {
                if (!e.revoked() && e.notAfter().isAfter(now)) {
                    due.add(e);
                    affected.add(generationOf(e));
                }
            }
            if (due.isEmpty()) {
                throw new PkiException(Reason.NOT_FOUND, "no unrevoked, unexpired " + profile.cliName()
                        + " certificate for '" + name + "'");
            }
            for (Generation g : affected) {
                g.key();
            }
            List<RegistryEntry> done = new ArrayList<>();
            for (RegistryEntry e : due) {
                done.add(registry.revoke(e.serial(), reason, now));
            }
            for (Generation g : affected) {
                regenerateCrl(g);
            }
            return done;
        }
    }

    /** The issuing generation that signed a registry entry (by the issuer name in its DER). */
    private Generation generationOf(RegistryEntry entry) throws PkiException {
        try {
            return generationOf(Certificates.parse(entry.der()));
        } catch (CertificateException e) {
            throw new PkiException(Reason.STORAGE, "registry entry " + entry.serial().toString(16) + " is unreadable",
                    e);
        }
    }

    private Generation generationOrNull(RegistryEntry entry) {
        try {
            X500Principal issuer = Certificates.parse(entry.der()).getIssuerX500Principal();
            for (Generation g : generations.values()) {
                if (g.cert.getSubjectX500Principal().equals(issuer)) {
                    return g;
                }
            }
        } catch (CertificateException e) {
            return null;
        }
        return null;
    }

    private Generation generationOf(X509Certificate cert) throws PkiException {
        for (Generation g : generations.values()) {
            if (g.cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                return g;
            }
        }
        throw new PkiException(Reason.NOT_FOUND, "certificate " + cert.getSerialNumber().toString(16)
                + " was not issued by this CA");
    }

    /** The issuing CA certificate that signed this certificate, or null when none of this CA's did. */
    public X509Certificate issuerOf(X509Certificate cert) {
        for (Generation g : generations.values()) {
            if (g.cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                return g.cert;
            }
        }
        return null;
    }

    @Override
    public X509CRL crl() throws PkiException {
        return crl(current.number);
    }

    /** The current CRL of the generation whose certificate this is, or null when it is not one of this CA's. */
    public X509CRL crlOf(X509Certificate issuingCertificate) throws PkiException {
        for (Generation g : generations.values()) {
            if (g.cert.equals(issuingCertificate)) {
                return crl(g.number);
            }
        }
        return null;
    }

    /** The current CRL of one issuing generation, regenerated first when past half its validity. */
    public X509CRL crl(int generation) throws PkiException {
        Generation gen = generations.get(generation);
        if (gen == null) {
            throw new PkiException(Reason.NOT_FOUND, "no issuing CA generation " + generation);
        }
        synchronized (crlLock) {
            Instant now = clock.instant();
            if (gen.cachedCrl == null) {
                Path file = gen.crlFile();
                if (Files.exists(file)) {
                    try {
                        gen.cachedCrl = PemCodec.parseCrl(Files.readString(file));
                    } catch (IOException | CRLException e) {
                        gen.cachedCrl = null;
                    }
                }
            }
            if (gen.cachedCrl == null || crlDue(gen.cachedCrl, now)) {
                regenerateCrl(gen);
            }
            return gen.cachedCrl;
        }
    }

    /** True when the CRL is past half its validity (or its nextUpdate): it is regenerated well before it lapses. */
    static boolean crlDue(X509CRL crl, Instant now) {
        Instant thisUpdate = crl.getThisUpdate().toInstant();
        Instant nextUpdate = crl.getNextUpdate() == null ? thisUpdate : crl.getNextUpdate().toInstant();
        Instant half = thisUpdate.plus(Duration.between(thisUpdate, nextUpdate).dividedBy(2));
        return !now.isBefore(half) || now.isBefore(thisUpdate);
    }

    private void regenerateCrl(Generation gen) throws PkiException {
        BigInteger number = BigInteger.ONE;
        X509CRL previous = gen.cachedCrl;
        if (previous == null && Files.exists(gen.crlFile())) {
            try {
                previous = PemCodec.parseCrl(Files.readString(gen.crlFile()));
            } catch (IOException | CRLException e) {
                previous = null;
            }
        }
        if (previous != null) {
            number = crlNumber(previous).add(BigInteger.ONE);
        }
        List<RegistryEntry> revoked = new ArrayList<>();
        for (RegistryEntry e : registry.revoked()) {
            if (e.profile() != null && generationOf(e) == gen) {
                revoked.add(e);
            }
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        X509CRL crl = buildCrl(gen.name, gen.keyId, gen.key(), revoked, now,
                Duration.ofHours(config.crlValidityHours()), number);
        try {
            SecureFiles.writeAtomically(gen.crlFile(), PemCodec.crl(crl), false);
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot write the CRL", e);
        }
        gen.cachedCrl = crl;
    }

    /**
     * Rotates the issuing CA: a new key and certificate ("Siteward Issuing CA n+1", signed by the root, which must be
     * present) become current; certificates are issued by it from now on, while the previous generations stay trusted
     * (and keep their CRLs) until they expire, so devices move over at their normal renewal. The new generation is
     * committed by rewriting {@code ca.json} last; a crash before that leaves the old generation current.
     *
     * @return the new generation's number
     */
    public int rotate() throws PkiException {
        synchronized (crlLock) {
            if (!rootKeyPresent()) {
                throw new PkiException(Reason.KEY_UNAVAILABLE, "rotating the issuing CA needs the root key, which is "
                        + "kept offline; bring it back first");
            }
            RootGeneration rg = currentRoot;
            SigningKey rootKey = keyStore().load(rg.keyAlias(), rg.cert);
            Generation gen = newIssuingGeneration(rg, rootKey);
            try {
                CaConfig updated = config.withGeneration(gen.number);
                generations.put(gen.number, gen);
                regenerateCrl(gen);
                SecureFiles.writeAtomically(dir.resolve("ca.json"), JSON.writeValueAsBytes(updated), false);
                config = updated;
                current = gen;
                return gen.number;
            } catch (IOException e) {
                generations.remove(gen.number);
                throw new PkiException(Reason.STORAGE, "cannot rotate the issuing CA: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Rolls the root over (RFC 4210 section 4.4): a new root key and self-signed root certificate with the same
     * subject name, the cross certificate "NewWithOld" (the new root's name and key signed by the current root key,
     * valid no longer than the current root), the link certificate "OldWithNew" (the current root's name and key
     * signed by the new root key), the new root's CRL, and a new issuing CA under the new root, which issues from
     * now on. The earlier roots and their issuing CAs stay trusted until their last certificate expires or
     * {@link #retireRoots} ends the overlap. Everything is written before {@code ca.json} names the new
     * generation, so a crash leaves the previous root current.
     *
     * @param offlineRootKey the current root key kept offline (encrypted PKCS#8, CA passphrase), or null to use
     *                       the key in the data dir or token
     * @param rootTtl        the new root's lifetime, or null for {@link CaInitOptions#DEFAULT_ROOT_TTL}
     * @return the new root generation's number
     */
    public int rotateRoot(Path offlineRootKey, Duration rootTtl) throws PkiException {
        Duration ttl = rootTtl == null ? CaInitOptions.DEFAULT_ROOT_TTL : rootTtl;
        if (ttl.compareTo(Duration.ofDays(1)) < 0 || ttl.compareTo(Duration.ofDays(36500)) > 0) {
            throw new PkiException(Reason.TTL_INVALID, "the root lifetime must be between 1d and 36500d");
        }
        synchronized (crlLock) {
            RootGeneration old = currentRoot;
            SigningKey oldKey = currentRootKey(offlineRootKey, "rolling the root over");
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            if (!old.cert.getNotAfter().toInstant().isAfter(now.plus(BACKDATE))) {
                throw new PkiException(Reason.KEY_UNAVAILABLE, "the current root expired at "
                        + old.cert.getNotAfter().toInstant() + ": no cross certificate can chain a new root to it; "
                        + "devices must enroll again under a new CA");
            }
            int n = old.number + 1;
            String alias = rootAlias(n);
            try {
                Files.deleteIfExists(dir.resolve(alias + "-key.pem"));
            } catch (IOException e) {
                throw new PkiException(Reason.STORAGE, "cannot clear a half-made root " + n, e);
            }
            CaKeyStore keys = keyStore();
            SigningKey newKey = keys.generate(alias, config.keyType());
            X500Name name = X500Name.getInstance(old.cert.getSubjectX500Principal().getEncoded());
            SubjectPublicKeyInfo newSpki = SubjectPublicKeyInfo.getInstance(newKey.publicKey().getEncoded());
            SubjectPublicKeyInfo oldSpki = SubjectPublicKeyInfo.getInstance(old.cert.getPublicKey().getEncoded());
            byte[] newKeyId = CertificateTemplates.keyIdentifier(newSpki);
            Date start = Date.from(now.minus(BACKDATE));
            Instant oldEnd = old.cert.getNotAfter().toInstant();
            Instant newEnd = now.plus(ttl);
            X509Certificate newRoot;
            X509Certificate cross;
            X509Certificate link;
            try {
                newRoot = sign(CertificateTemplates.ca(name, null, name, randomSerial(), start, Date.from(newEnd),
                        newSpki, 1), newKey);
                cross = sign(CertificateTemplates.ca(name, old.keyId, name, randomSerial(), start,
                        Date.from(newEnd.isBefore(oldEnd) ? newEnd : oldEnd), newSpki, 1), oldKey);
                link = sign(CertificateTemplates.ca(name, newKeyId, name, randomSerial(), start,
                        Date.from(newEnd.isBefore(oldEnd) ? newEnd : oldEnd), oldSpki, 1), newKey);
            } catch (org.bouncycastle.cert.CertIOException e) {
                throw new PkiException(Reason.INTERNAL, "cannot build the new root certificates", e);
            }
            checkRollover(old.cert, newRoot, cross, link);
            keys.store(alias, newKey, newRoot);
            RootGeneration rg = new RootGeneration(n, newRoot, cross, link);
            try {
                SecureFiles.writeAtomically(rootCertFile(dir, n), PemCodec.certificates(List.of(newRoot)), false);
                SecureFiles.writeAtomically(dir.resolve("cross-" + n + ".pem"), PemCodec.certificates(List.of(cross)),
                        false);
                SecureFiles.writeAtomically(dir.resolve("link-" + n + ".pem"), PemCodec.certificates(List.of(link)),
                        false);
                recordCa(newRoot, "root-" + n);
                recordCa(cross, "cross-" + n);
                recordCa(link, "link-" + n);
                X509CRL crl = buildCrl(name, newKeyId, newKey, List.of(), now, ROOT_CRL_VALIDITY, BigInteger.ONE);
                SecureFiles.writeAtomically(rg.crlFile(), PemCodec.crl(crl), false);
            } catch (IOException e) {
                throw new PkiException(Reason.STORAGE, "cannot write the new root: " + e.getMessage(), e);
            }
            Generation gen = newIssuingGeneration(rg, newKey);
            try {
                CaConfig updated = config.withRoot(n, gen.number);
                rootGenerations.put(n, rg);
                generations.put(gen.number, gen);
                regenerateCrl(gen);
                SecureFiles.writeAtomically(dir.resolve("ca.json"), JSON.writeValueAsBytes(updated), false);
                config = updated;
                currentRoot = rg;
                current = gen;
                return n;
            } catch (IOException | PkiException e) {
                rootGenerations.remove(n);
                generations.remove(gen.number);
                throw e instanceof PkiException p ? p
                        : new PkiException(Reason.STORAGE, "cannot commit the new root: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Checks the rollover certificates before anything is stored: the new root is self-signed, the cross
     * certificate carries the new key under the old root's signature and within its validity, the link certificate
     * carries the old key under the new root's signature; all are CA certificates with the old name.
     */
    static void checkRollover(X509Certificate oldRoot, X509Certificate newRoot, X509Certificate cross,
                              X509Certificate link) throws PkiException {
        try {
            newRoot.verify(newRoot.getPublicKey());
            cross.verify(oldRoot.getPublicKey());
            link.verify(newRoot.getPublicKey());
            boolean ok = cross.getPublicKey().equals(newRoot.getPublicKey())
                    && link.getPublicKey().equals(oldRoot.getPublicKey())
                    && cross.getBasicConstraints() >= 1 && link.getBasicConstraints() >= 1
                    && newRoot.getBasicConstraints() >= 1
                    && cross.getSubjectX500Principal().equals(oldRoot.getSubjectX500Principal())
                    && newRoot.getSubjectX500Principal().equals(oldRoot.getSubjectX500Principal())
                    && !cross.getNotAfter().after(oldRoot.getNotAfter())
                    && !link.getNotAfter().after(oldRoot.getNotAfter());
            if (!ok) {
                throw new PkiException(Reason.PROFILE_VIOLATION, "the rollover certificates break their profile");
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new PkiException(Reason.PROFILE_VIOLATION, "a rollover certificate does not verify", e);
        }
    }

    /** The current root's key: from an offline file when given, else from the data dir or token. */
    private SigningKey currentRootKey(Path offlineRootKey, String what) throws PkiException {
        RootGeneration rg = currentRoot;
        if (offlineRootKey != null) {
            if (!(keyStore() instanceof FileCaKeyStore files)) {
                throw new PkiException(Reason.KEY_UNAVAILABLE, "this CA keeps its keys in a PKCS#11 token");
            }
            return files.loadFrom(offlineRootKey, rg.cert);
        }
        if (!rootKeyPresent()) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, what + " needs the root key, which is kept offline; "
                    + "pass it with --root-key FILE");
        }
        return keyStore().load(rg.keyAlias(), rg.cert);
    }

    /**
     * Ends a root rollover's overlap now: every earlier root is retired, with the issuing CAs under it. Their
     * certificates are no longer accepted, served or listed in {@code /cacerts}. Refused while unexpired,
     * unrevoked certificates under an earlier root remain, unless {@code force}.
     *
     * @return the number of unexpired certificates that were cut off (0 unless forced)
     */
    public int retireRoots(boolean force) throws PkiException {
        synchronized (crlLock) {
            int through = currentRoot.number - 1;
            if (through < 1) {
                throw new PkiException(Reason.NOT_FOUND, "there is no earlier root to retire (no root rollover yet)");
            }
            Instant now = clock.instant();
            int remaining = 0;
            Instant lastExpiry = null;
            for (CertificateProfile profile : CertificateProfile.values()) {
                for (RegistryEntry e : registry.findByProfile(profile)) {
                    Generation g = generationOrNull(e);
                    if (g != null && g.rootGeneration.number <= through && !e.revoked()
                            && e.notAfter().isAfter(now)) {
                        remaining++;
                        lastExpiry = lastExpiry == null || e.notAfter().isAfter(lastExpiry) ? e.notAfter() : lastExpiry;
                    }
                }
            }
            if (remaining > 0 && !force) {
                throw new PkiException(Reason.ROOT_IN_USE, remaining + " unexpired certificate(s) under an earlier "
                        + "root remain (the last expires " + lastExpiry + "); their holders lose access when it is "
                        + "retired: wait for them to renew, or pass --force");
            }
            CaConfig updated = config.withRootsRetiredThrough(through);
            try {
                SecureFiles.writeAtomically(dir.resolve("ca.json"), JSON.writeValueAsBytes(updated), false);
            } catch (IOException e) {
                throw new PkiException(Reason.STORAGE, "cannot retire the root: " + e.getMessage(), e);
            }
            config = updated;
            return remaining;
        }
    }

    /**
     * Makes the next issuing generation under a root: key, certificate ("Siteward Issuing CA n+1", at most as long
     * as the root), certificate file and registry entry. Nothing is current until the caller rewrites ca.json.
     */
    private Generation newIssuingGeneration(RootGeneration rg, SigningKey rootKey) throws PkiException {
        int next = current.number + 1;
        String alias = Generation.keyAlias(next);
        try {
            Files.deleteIfExists(dir.resolve(alias + "-key.pem"));
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot clear a half-made generation " + next, e);
        }
        CaKeyStore keys = keyStore();
        SigningKey key = keys.generate(alias, config.keyType());
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant end = now.plus(CaInitOptions.DEFAULT_ISSUING_TTL);
        if (end.isAfter(rg.cert.getNotAfter().toInstant())) {
            end = rg.cert.getNotAfter().toInstant();
        }
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
        X500Name rootName = X500Name.getInstance(rg.cert.getSubjectX500Principal().getEncoded());
        X509Certificate cert;
        try {
            cert = sign(CertificateTemplates.ca(rootName, rg.keyId,
                    CertificateTemplates.commonName(namePrefix() + " Issuing CA " + next, config.trustDomain()),
                    randomSerial(), Date.from(now.minus(BACKDATE)), Date.from(end), spki, 0), rootKey);
        } catch (org.bouncycastle.cert.CertIOException e) {
            throw new PkiException(Reason.INTERNAL, "cannot build the new issuing CA certificate", e);
        }
        keys.store(alias, key, cert);
        try {
            SecureFiles.writeAtomically(issuingCertFile(dir, next), PemCodec.certificates(List.of(cert)), false);
            recordCa(cert, "issuing-" + next);
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot write the new issuing CA: " + e.getMessage(), e);
        }
        Generation gen = new Generation(next, cert, rg);
        gen.key = key;
        return gen;
    }

    private String namePrefix() {
        return config.kind() == CaKind.PUBLISHER ? "Siteward Publisher" : "Siteward";
    }

    private void recordCa(X509Certificate cert, String name) throws PkiException {
        try {
            registry.record(new RegistryEntry(cert.getSerialNumber(), null, name, null,
                    cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant(), cert.getEncoded(), null, null));
        } catch (CertificateException e) {
            throw new PkiException(Reason.INTERNAL, "cannot encode a CA certificate", e);
        }
    }

    /**
     * The issuing CA generations still trusted, the current one first: the current generation, and each earlier one
     * until it is retired (see {@link #generations()}).
     */
    public List<X509Certificate> issuingCertificates() {
        Instant now = clock.instant();
        List<X509Certificate> out = new ArrayList<>();
        for (IssuingGeneration g : generations(now)) {
            if (g.trusted()) {
                out.add(g.certificate());
            }
        }
        return out;
    }

    /**
     * One issuing CA generation and where it stands.
     *
     * @param number       its generation number (1 for the first issuing CA)
     * @param certificate  its certificate
     * @param current      true for the generation that issues new certificates
     * @param lastIssued   the latest notAfter of the certificates it issued, or null when it issued none
     * @param trustedUntil when it stops being trusted: its own notAfter for the current generation; for an earlier
     *                     one the expiry of the last certificate it issued (at most its own notAfter)
     * @param retired      true once an earlier generation is past {@code trustedUntil}, or its root was retired: no
     *                     longer trusted
     * @param root         the number of the root generation that signed it
     */
    public record IssuingGeneration(int number, X509Certificate certificate, boolean current, Instant lastIssued,
                                    Instant trustedUntil, boolean retired, int root) {
        /** True while client certificates it issued are accepted. */
        public boolean trusted() {
            return !retired;
        }
    }

    /** Every issuing generation this CA has had, newest first, with its retirement state at the clock's time. */
    public List<IssuingGeneration> generations() {
        return generations(clock.instant());
    }

    private List<IssuingGeneration> generations(Instant now) {
        List<IssuingGeneration> basic = issuingStates(now);
        Map<Integer, RootState> roots = new java.util.HashMap<>();
        for (RootState r : rootStates(now, basic)) {
            roots.put(r.number(), r);
        }
        List<IssuingGeneration> out = new ArrayList<>();
        for (IssuingGeneration g : basic) {
            // a retired root takes every issuing generation under it along
            boolean rootRetired = roots.get(g.root()).retired();
            out.add(rootRetired && !g.retired() ? new IssuingGeneration(g.number(), g.certificate(), g.current(),
                    g.lastIssued(), g.trustedUntil(), true, g.root()) : g);
        }
        return out;
    }

    /** The issuing generations' retirement by their own leaves alone, newest first. */
    private List<IssuingGeneration> issuingStates(Instant now) {
        Generation cur = current;
        List<IssuingGeneration> out = new ArrayList<>();
        generations.values().stream().sorted((x, y) -> Integer.compare(y.number, x.number)).forEach(g -> {
            Instant own = g.cert.getNotAfter().toInstant();
            Instant last = g.lastIssuedExpiry;
            if (g == cur) {
                out.add(new IssuingGeneration(g.number, g.cert, true, last, own, false, g.rootGeneration.number));
                return;
            }
            // An earlier generation is trusted until the last certificate it issued expires (never past its own
            // validity); one that issued nothing is retired as soon as it is no longer current.
            Instant until = last == null ? g.cert.getNotBefore().toInstant() : last.isAfter(own) ? own : last;
            out.add(new IssuingGeneration(g.number, g.cert, false, last, until, !now.isBefore(until),
                    g.rootGeneration.number));
        });
        return out;
    }

    /**
     * One root generation and where it stands.
     *
     * @param number            its generation number (1 for the root made by {@code ca init})
     * @param certificate       the self-signed root certificate
     * @param crossCertificate  this root's name and key signed by the previous root ("NewWithOld"), null for root 1
     * @param linkCertificate   the previous root's name and key signed by this root ("OldWithNew"), null for root 1
     * @param current           true for the root that signs new issuing CAs
     * @param trustedUntil      the current root: its notAfter; an earlier one: when the last certificate issued
     *                          under it expires (at most its own notAfter)
     * @param retired           true once an earlier root is past {@code trustedUntil} or an operator retired it
     */
    public record RootState(int number, X509Certificate certificate, X509Certificate crossCertificate,
                            X509Certificate linkCertificate, boolean current, Instant trustedUntil, boolean retired) {
        /** True while it is served and certificates under it are accepted. */
        public boolean trusted() {
            return !retired;
        }
    }

    /** Every root generation, newest first, with its retirement state at the clock's time. */
    public List<RootState> rootGenerations() {
        Instant now = clock.instant();
        return rootStates(now, issuingStates(now));
    }

    private List<RootState> rootStates(Instant now, List<IssuingGeneration> issuing) {
        RootGeneration cur = currentRoot;
        int retiredThrough = config.retiredRootsThrough();
        List<RootState> out = new ArrayList<>();
        rootGenerations.values().stream().sorted((x, y) -> Integer.compare(y.number, x.number)).forEach(r -> {
            Instant own = r.cert.getNotAfter().toInstant();
            if (r == cur) {
                out.add(new RootState(r.number, r.cert, r.cross, r.link, true, own, false));
                return;
            }
            // an earlier root stays until the last certificate of its issuing generations expires
            Instant until = r.cert.getNotBefore().toInstant();
            for (IssuingGeneration g : issuing) {
                if (g.root() == r.number && g.trustedUntil().isAfter(until)) {
                    until = g.trustedUntil();
                }
            }
            if (until.isAfter(own)) {
                until = own;
            }
            boolean retired = r.number <= retiredThrough || !now.isBefore(until);
            out.add(new RootState(r.number, r.cert, r.cross, r.link, false, until, retired));
        });
        return out;
    }

    /** The roots still trusted, the current one first: what devices may have pinned during a rollover. */
    public List<X509Certificate> trustedRoots() {
        List<X509Certificate> out = new ArrayList<>();
        for (RootState r : rootGenerations()) {
            if (r.trusted()) {
                out.add(r.certificate());
            }
        }
        return out;
    }

    /** The current root generation's number. */
    public int rootGeneration() {
        return currentRoot.number;
    }

    /**
     * The rollover certificates still needed, newest first: for each root n after the first, its cross certificate
     * (n signed by n-1) and its link certificate (n-1 signed by n), as long as some root older than n is still
     * trusted. A root in between that is no longer trusted itself still bridges: a device pinned to root 1 reaches
     * root 3 by cross certificates 3 and 2.
     */
    public List<X509Certificate> rolloverCertificates() {
        List<RootState> roots = rootGenerations();
        List<X509Certificate> out = new ArrayList<>();
        for (int i = 0; i < roots.size(); i++) {
            RootState r = roots.get(i);
            boolean olderTrusted = false;
            for (int j = i + 1; j < roots.size(); j++) {
                olderTrusted |= roots.get(j).trusted();
            }
            if (r.crossCertificate() != null && olderTrusted) {
                out.add(r.crossCertificate());
                out.add(r.linkCertificate());
            }
        }
        return out;
    }

    /**
     * The chain to present with a certificate this CA issued, leaf first: the leaf, its issuing CA, then the
     * rollover certificates that let a relying party that pinned any trusted root build a path to it (RFC 4158
     * path building; RFC 7030 section 4.1.3 serves the same certificates). The roots themselves are not included.
     */
    public List<X509Certificate> servedChain(X509Certificate leaf) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(leaf);
        X509Certificate issuer = issuerOf(leaf);
        if (issuer != null) {
            out.add(issuer);
        }
        out.addAll(rolloverCertificates());
        return out;
    }

    /**
     * What EST {@code /cacerts} answers (RFC 7030 section 4.1.3): the current issuing CA, every trusted root, and
     * during a root rollover the NewWithOld and OldWithNew certificates.
     */
    public List<X509Certificate> caCertificates() {
        List<X509Certificate> out = new ArrayList<>();
        out.add(current.cert);
        out.addAll(trustedRoots());
        out.addAll(rolloverCertificates());
        return out;
    }

    /** The current issuing generation's number. */
    public int issuingGeneration() {
        return current.number;
    }

    static BigInteger crlNumber(X509CRL crl) {
        byte[] ext = crl.getExtensionValue(Extension.cRLNumber.getId());
        if (ext == null) {
            return BigInteger.ZERO;
        }
        return CRLNumber.getInstance(org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets())
                .getCRLNumber();
    }

    private static X509CRL buildCrl(X500Name issuer, byte[] issuerKeyId, SigningKey key, List<RegistryEntry> revoked,
                                    Instant now, Duration validity, BigInteger number) throws PkiException {
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(issuer, Date.from(now));
            b.setNextUpdate(Date.from(now.plus(validity)));
            for (RegistryEntry e : revoked) {
                b.addCRLEntry(e.serial(), Date.from(e.revokedAt()), e.reason().code());
            }
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
            b.addExtension(Extension.cRLNumber, false, new CRLNumber(number));
            X509CRLHolder holder = b.build(contentSigner(key));
            return Certificates.parseCrl(holder.getEncoded());
        } catch (IOException | CRLException e) {
            throw new PkiException(Reason.INTERNAL, "cannot build the CRL", e);
        }
    }

    /**
     * The root's CRL (revoked issuing CAs). Once it is past half its validity and the root key is here, the root
     * re-signs it (same entries, next CRL number); with the root kept offline it is returned as last signed, and
     * validators fail closed once its nextUpdate passes.
     */
    public X509CRL rootCrl() throws PkiException {
        return rootCrl(null);
    }

    /**
     * The root's CRL, re-signed now with the root key kept offline in {@code offlineRootKey} (encrypted with the
     * CA passphrase), or — when that is null — re-signed only when due and the root key is in the data dir or token.
     */
    public X509CRL rootCrl(Path offlineRootKey) throws PkiException {
        return rootCrl(currentRoot, offlineRootKey);
    }

    /**
     * The CRL of each trusted root and of each root that still bridges to an older trusted one (its rollover
     * certificates are served), the current root's first; each is re-signed first when due and its key is here.
     */
    public List<X509CRL> rootCrls() throws PkiException {
        List<RootState> roots = rootGenerations();
        List<X509CRL> out = new ArrayList<>();
        for (int i = 0; i < roots.size(); i++) {
            boolean olderTrusted = false;
            for (int j = i + 1; j < roots.size(); j++) {
                olderTrusted |= roots.get(j).trusted();
            }
            if (roots.get(i).trusted() || olderTrusted) {
                out.add(rootCrl(rootGenerations.get(roots.get(i).number()), null));
            }
        }
        return out;
    }

    private X509CRL rootCrl(RootGeneration rg, Path offlineRootKey) throws PkiException {
        X509Certificate root = rg.cert;
        synchronized (crlLock) {
            X509CRL current;
            try {
                current = PemCodec.parseCrl(Files.readString(rg.crlFile()));
            } catch (IOException | CRLException e) {
                throw new PkiException(Reason.STORAGE, "cannot read the root CRL", e);
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            boolean keyHere = CaConfig.STORAGE_PKCS11.equals(config.keyStorage())
                    || Files.exists(dir.resolve(rg.keyAlias() + "-key.pem"));
            if (offlineRootKey == null && (!crlDue(current, now) || !keyHere)) {
                return current;
            }
            SigningKey rootKey;
            if (offlineRootKey != null) {
                rootKey = currentRootKey(offlineRootKey, "signing the root CRL");
            } else {
                rootKey = keyStore().load(rg.keyAlias(), root);
            }
            try {
                X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(
                        root.getSubjectX500Principal().getEncoded()), Date.from(now));
                b.setNextUpdate(Date.from(now.plus(ROOT_CRL_VALIDITY)));
                b.addCRL(new X509CRLHolder(current.getEncoded()));
                b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(
                        CertificateTemplates.keyIdentifier(SubjectPublicKeyInfo.getInstance(
                                root.getPublicKey().getEncoded()))));
                b.addExtension(Extension.cRLNumber, false, new CRLNumber(crlNumber(current).add(BigInteger.ONE)));
                X509CRL renewed = Certificates.parseCrl(b.build(contentSigner(rootKey)).getEncoded());
                SecureFiles.writeAtomically(rg.crlFile(), PemCodec.crl(renewed), false);
                return renewed;
            } catch (IOException | CRLException e) {
                throw new PkiException(Reason.STORAGE, "cannot renew the root CRL", e);
            }
        }
    }

    /** True when the root key is held in this data dir or token (false after {@code --root-key-out}). */
    public boolean rootKeyPresent() throws PkiException {
        if (CaConfig.STORAGE_PKCS11.equals(config.keyStorage())) {
            return true;
        }
        return Files.exists(dir.resolve(currentRoot.keyAlias() + "-key.pem"));
    }

    public Optional<Path> generatedPassphraseFile() {
        Path p = dir.resolve("passphrase");
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    public CaConfig config() {
        return config;
    }

    public Path directory() {
        return dir;
    }

    public String keyStorageDescription() {
        return CaConfig.STORAGE_PKCS11.equals(config.keyStorage())
                ? "PKCS#11 token (config " + config.pkcs11Config() + ")"
                : "files (encrypted PKCS#8)";
    }

    @Override
    public List<X509Certificate> caChain() {
        return current.chain;
    }

    @Override
    public X509Certificate root() {
        return currentRoot.cert;
    }

    /** The current issuing CA certificate. */
    public X509Certificate issuingCertificate() {
        return current.cert;
    }

    @Override
    public String trustDomain() {
        return config.trustDomain();
    }

    public CaKind kind() {
        return config.kind();
    }

    @Override
    public CertificateRegistry registry() {
        return registry;
    }

    @Override
    public void close() throws PkiException {
        registry.close();
    }
}
