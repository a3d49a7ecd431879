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
    private final X509Certificate root;
    private final JournalCertificateRegistry registry;
    private final SecureRandom random = new SecureRandom();
    private final Object crlLock = new Object();
    private CaKeyStore keyStore;
    /** Every issuing CA generation this CA has had, by number; the current one signs. */
    private final Map<Integer, Generation> generations = new ConcurrentHashMap<>();
    private volatile Generation current;
    private volatile CaConfig config;

    /**
     * One issuing CA generation: its certificate, its key (unlocked on first use), its CRL and per-thread signers.
     * Generation 1 lives in {@code issuing.pem}, {@code issuing-key.pem}, {@code crl.pem}; generation n in
     * {@code issuing-n.pem}, {@code issuing-n-key.pem}, {@code crl-n.pem}.
     */
    private final class Generation {
        final int number;
        final X509Certificate cert;
        final X500Name name;
        final byte[] keyId;
        final byte[] crlDp;
        final List<X509Certificate> chain;
        final ThreadLocal<ContentSigner> signers = new ThreadLocal<>();
        volatile SigningKey key;
        /** The latest notAfter of the certificates this generation issued (null: none yet). */
        volatile Instant lastIssuedExpiry;
        X509CRL cachedCrl;

        Generation(int number, X509Certificate cert) throws PkiException {
            this.number = number;
            this.cert = cert;
            this.chain = List.of(cert, root);
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

    private SiteCa(Path dir, CaConfig config, CaSecrets secrets, Clock clock, X509Certificate root,
                   JournalCertificateRegistry registry) throws PkiException {
        this.dir = dir;
        this.config = config;
        this.secrets = secrets;
        this.clock = clock;
        this.root = root;
        this.registry = registry;
        int currentNumber = config.currentGeneration();
        try {
            for (int n = 1; n <= currentNumber; n++) {
                Path f = issuingCertFile(dir, n);
                if (Files.exists(f)) {
                    generations.put(n, new Generation(n, PemCodec.parseCertificates(Files.readString(f)).get(0)));
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
                    labels, options.crlUrl(), DEFAULT_CRL_VALIDITY_HOURS, now, 1);
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
            X509Certificate root = PemCodec.parseCertificates(Files.readString(dir.resolve("root.pem"))).get(0);
            return new SiteCa(dir, config, secrets, clock, root,
                    JournalCertificateRegistry.open(dir.resolve("registry.log")));
        } catch (IOException | CertificateException e) {
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
            SigningKey rootKey = keyStore().load(ROOT, root);
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
            if (end.isAfter(root.getNotAfter().toInstant())) {
                end = root.getNotAfter().toInstant();
            }
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
            X500Name rootName = X500Name.getInstance(root.getSubjectX500Principal().getEncoded());
            String prefix = config.kind() == CaKind.PUBLISHER ? "Siteward Publisher" : "Siteward";
            X509Certificate cert;
            try {
                cert = sign(CertificateTemplates.ca(rootName, CertificateTemplates.keyIdentifier(
                                SubjectPublicKeyInfo.getInstance(root.getPublicKey().getEncoded())),
                        CertificateTemplates.commonName(prefix + " Issuing CA " + next, config.trustDomain()),
                        randomSerial(), Date.from(now.minus(BACKDATE)), Date.from(end), spki, 0), rootKey);
            } catch (org.bouncycastle.cert.CertIOException e) {
                throw new PkiException(Reason.INTERNAL, "cannot build the new issuing CA certificate", e);
            }
            keys.store(alias, key, cert);
            try {
                SecureFiles.writeAtomically(issuingCertFile(dir, next), PemCodec.certificates(List.of(cert)), false);
                registry.record(new RegistryEntry(cert.getSerialNumber(), null, "issuing-" + next, null,
                        cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant(), cert.getEncoded(), null,
                        null));
                Generation gen = new Generation(next, cert);
                gen.key = key;
                CaConfig updated = config.withGeneration(next);
                generations.put(next, gen);
                regenerateCrl(gen);
                SecureFiles.writeAtomically(dir.resolve("ca.json"), JSON.writeValueAsBytes(updated), false);
                config = updated;
                current = gen;
                return next;
            } catch (IOException | CertificateException e) {
                generations.remove(next);
                throw new PkiException(Reason.STORAGE, "cannot rotate the issuing CA: " + e.getMessage(), e);
            }
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
     * @param retired      true once an earlier generation is past {@code trustedUntil}: no longer trusted
     */
    public record IssuingGeneration(int number, X509Certificate certificate, boolean current, Instant lastIssued,
                                    Instant trustedUntil, boolean retired) {
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
        Generation cur = current;
        List<IssuingGeneration> out = new ArrayList<>();
        generations.values().stream().sorted((x, y) -> Integer.compare(y.number, x.number)).forEach(g -> {
            Instant own = g.cert.getNotAfter().toInstant();
            Instant last = g.lastIssuedExpiry;
            if (g == cur) {
                out.add(new IssuingGeneration(g.number, g.cert, true, last, own, false));
                return;
            }
            // An earlier generation is trusted until the last certificate it issued expires (never past its own
            // validity); one that issued nothing is retired as soon as it is no longer current.
            Instant until = last == null ? g.cert.getNotBefore().toInstant() : last.isAfter(own) ? own : last;
            out.add(new IssuingGeneration(g.number, g.cert, false, last, until, !now.isBefore(until)));
        });
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
        synchronized (crlLock) {
            X509CRL current;
            try {
                current = PemCodec.parseCrl(Files.readString(dir.resolve("root-crl.pem")));
            } catch (IOException | CRLException e) {
                throw new PkiException(Reason.STORAGE, "cannot read the root CRL", e);
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            if (offlineRootKey == null && (!crlDue(current, now) || !rootKeyPresent())) {
                return current;
            }
            SigningKey rootKey;
            if (offlineRootKey != null) {
                if (!(keyStore() instanceof FileCaKeyStore files)) {
                    throw new PkiException(Reason.KEY_UNAVAILABLE, "this CA keeps its keys in a PKCS#11 token");
                }
                rootKey = files.loadFrom(offlineRootKey, root);
            } else {
                rootKey = keyStore().load(ROOT, root);
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
                SecureFiles.writeAtomically(dir.resolve("root-crl.pem"), PemCodec.crl(renewed), false);
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
        return Files.exists(dir.resolve(ROOT + "-key.pem"));
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
        return root;
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
