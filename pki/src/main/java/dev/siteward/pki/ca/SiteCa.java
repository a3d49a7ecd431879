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
import java.util.Optional;
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
    private final CaConfig config;
    private final CaSecrets secrets;
    private final Clock clock;
    private final X509Certificate root;
    private final X509Certificate issuing;
    private final List<X509Certificate> caChain;
    private final X500Name issuerName;
    private final byte[] issuerKeyId;
    private final byte[] crlDpExtension;
    private final JournalCertificateRegistry registry;
    private final SecureRandom random = new SecureRandom();
    private final Object crlLock = new Object();
    private volatile SigningKey issuingKey;
    private CaKeyStore keyStore;
    private final ThreadLocal<ContentSigner> signers = new ThreadLocal<>();
    private X509CRL cachedCrl;

    private SiteCa(Path dir, CaConfig config, CaSecrets secrets, Clock clock, X509Certificate root,
                   X509Certificate issuing, JournalCertificateRegistry registry) throws PkiException {
        this.dir = dir;
        this.config = config;
        this.secrets = secrets;
        this.clock = clock;
        this.root = root;
        this.issuing = issuing;
        this.caChain = List.of(issuing, root);
        this.registry = registry;
        try {
            X509CertificateHolder holder = new X509CertificateHolder(issuing.getEncoded());
            this.issuerName = holder.getSubject();
            this.issuerKeyId = CertificateTemplates.keyIdentifier(holder.getSubjectPublicKeyInfo());
            this.crlDpExtension = config.crlUrl() == null ? null
                    : CertificateTemplates.crlDistributionPoint(config.crlUrl());
        } catch (IOException | CertificateException e) {
            throw new PkiException(Reason.STORAGE, "issuing CA certificate is unreadable", e);
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
                    labels, options.crlUrl(), DEFAULT_CRL_VALIDITY_HOURS, now);
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
            X509Certificate issuing = PemCodec.parseCertificates(Files.readString(dir.resolve("issuing.pem"))).get(0);
            return new SiteCa(dir, config, secrets, clock, root, issuing,
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

    private SigningKey issuingKey() throws PkiException {
        SigningKey key = issuingKey;
        if (key == null) {
            synchronized (this) {
                if (issuingKey == null) {
                    issuingKey = keyStore().load(ISSUING, issuing);
                }
                key = issuingKey;
            }
        }
        return key;
    }

    /** Unlocks the issuing key now, so that a wrong passphrase or PIN is reported before any work. */
    public void unlock() throws PkiException {
        issuingKey();
    }

    private ContentSigner signer() throws PkiException {
        ContentSigner s = signers.get();
        if (s == null) {
            s = contentSigner(issuingKey());
            signers.set(s);
        }
        return s;
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
        ValidatedCsr csr = CsrValidator.validate(request.csrDer());
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant issuerStart = issuing.getNotBefore().toInstant();
        Instant issuerEnd = issuing.getNotAfter().toInstant();
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
        ContentSigner signer = signer();
        BigInteger serial = newSerial(registry);
        try {
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(csr.spkiDer());
            boolean rsa = "RSA".equals(csr.publicKey().getAlgorithm());
            byte[] der = CertificateTemplates.endEntity(profile, issuerName, issuerKeyId, serial,
                    CertificateTemplates.x509Time(notBefore), CertificateTemplates.x509Time(notAfter), name, sans, spki,
                    crlDpExtension, rsa)
                    .build(signer).getEncoded();
            X509Certificate cert = Certificates.parse(der);
            ProfileCheck.check(cert, profile, issuing, serial, csr.spkiDer(), sans,
                    crlDpExtension != null && profile != CertificateProfile.PUBLISHER);
            registry.record(new RegistryEntry(serial, profile, name, request.role(), notBefore, notAfter, der, null,
                    null));
            return new IssuedCertificate(cert, caChain);
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
            issuingKey();
            RegistryEntry revoked = registry.revoke(serial, reason, clock.instant().truncatedTo(ChronoUnit.SECONDS));
            regenerateCrl();
            return revoked;
        }
    }

    @Override
    public List<RegistryEntry> revokeAll(CertificateProfile profile, String name, RevocationReason reason)
            throws PkiException {
        synchronized (crlLock) {
            issuingKey();
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            List<RegistryEntry> done = new ArrayList<>();
            for (RegistryEntry e : registry.findByName(profile, name)) {
                if (!e.revoked() && e.notAfter().isAfter(now)) {
                    done.add(registry.revoke(e.serial(), reason, now));
                }
            }
            if (done.isEmpty()) {
                throw new PkiException(Reason.NOT_FOUND, "no unrevoked, unexpired " + profile.cliName()
                        + " certificate for '" + name + "'");
            }
            regenerateCrl();
            return done;
        }
    }

    @Override
    public X509CRL crl() throws PkiException {
        synchronized (crlLock) {
            Instant now = clock.instant();
            if (cachedCrl == null) {
                Path file = dir.resolve("crl.pem");
                if (Files.exists(file)) {
                    try {
                        cachedCrl = PemCodec.parseCrl(Files.readString(file));
                    } catch (IOException | CRLException e) {
                        cachedCrl = null;
                    }
                }
            }
            if (cachedCrl == null || crlDue(cachedCrl, now)) {
                regenerateCrl();
            }
            return cachedCrl;
        }
    }

    /** True when the CRL is past half its validity (or its nextUpdate): it is regenerated well before it lapses. */
    static boolean crlDue(X509CRL crl, Instant now) {
        Instant thisUpdate = crl.getThisUpdate().toInstant();
        Instant nextUpdate = crl.getNextUpdate() == null ? thisUpdate : crl.getNextUpdate().toInstant();
        Instant half = thisUpdate.plus(Duration.between(thisUpdate, nextUpdate).dividedBy(2));
        return !now.isBefore(half) || now.isBefore(thisUpdate);
    }

    private void regenerateCrl() throws PkiException {
        BigInteger number = BigInteger.ONE;
        X509CRL previous = cachedCrl;
        if (previous == null && Files.exists(dir.resolve("crl.pem"))) {
            try {
                previous = PemCodec.parseCrl(Files.readString(dir.resolve("crl.pem")));
            } catch (IOException | CRLException e) {
                previous = null;
            }
        }
        if (previous != null) {
            number = crlNumber(previous).add(BigInteger.ONE);
        }
        List<RegistryEntry> revoked = new ArrayList<>();
        for (RegistryEntry e : registry.revoked()) {
            if (e.profile() != null) {
                revoked.add(e);
            }
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        X509CRL crl = buildCrl(issuerName, issuerKeyId, issuingKey(), revoked, now,
                Duration.ofHours(config.crlValidityHours()), number);
        try {
            SecureFiles.writeAtomically(dir.resolve("crl.pem"), PemCodec.crl(crl), false);
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot write the CRL", e);
        }
        cachedCrl = crl;
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
        return caChain;
    }

    @Override
    public X509Certificate root() {
        return root;
    }

    public X509Certificate issuingCertificate() {
        return issuing;
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
