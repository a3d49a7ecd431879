package dev.siteward.pki.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.siteward.pki.PkiException;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import dev.siteward.pki.validation.CertificateValidationException.Reason;
import dev.siteward.pki.validation.ChainValidator.Purpose;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PKIX path validation to the site root with CRL revocation status, failing closed. */
class ChainValidatorTest {

    @TempDir
    static Path tmp;
    static MutableClock clock;
    static TestPki site;
    static TestPki other;

    @BeforeAll
    static void createCas() {
        clock = MutableClock.atDefaultStart();
        site = TestPki.create(tmp.resolve("site"), clock);
        other = site.otherCa(tmp.resolve("other"));
    }

    @AfterAll
    static void closeCas() {
        site.close();
        other.close();
    }

    @AfterEach
    void resetClock() {
        clock.set(MutableClock.DEFAULT_START);
    }

    private static Reason refusal(ChainValidator validator, List<X509Certificate> chain, Purpose purpose) {
        return assertThrows(CertificateValidationException.class, () -> validator.validate(chain, purpose)).reason();
    }

    /** CRLs held as snapshots; refresh() is counted and may install fresh ones from the CA. */
    private static final class SnapshotCrls implements CrlSource {
        final Map<X500Principal, X509CRL> held = new HashMap<>();
        final List<X500Principal> refreshed = new ArrayList<>();
        boolean refreshFromCa;

        SnapshotCrls() throws PkiException {
            held.put(site.ca().issuingCertificate().getSubjectX500Principal(), site.ca().crl());
            held.put(site.root().getSubjectX500Principal(), site.ca().rootCrl());
        }

        @Override
        public Optional<X509CRL> crlFor(X500Principal issuer) {
            return Optional.ofNullable(held.get(issuer));
        }

        @Override
        public void refresh(X500Principal issuer) {
            refreshed.add(issuer);
            if (refreshFromCa) {
                site.crlSource().crlFor(issuer).ifPresent(c -> held.put(issuer, c));
            }
        }
    }

    @Test
    void validDeviceChainIsAcceptedForClientAuth() throws Exception {
        TestIdentity device = site.issueDevice("chain-ok");
        List<X509Certificate> path = site.chainValidator().validate(device.chain(), Purpose.CLIENT_AUTH);
        assertEquals(List.of(device.certificate(), site.ca().issuingCertificate(), site.root()), path);
    }

    @Test
    void chainWithoutTheRootIsAcceptedToo() throws Exception {
        TestIdentity device = site.issueDevice("chain-noroot");
        List<X509Certificate> path = site.chainValidator().validate(
                List.of(device.certificate(), site.ca().issuingCertificate()), Purpose.CLIENT_AUTH);
        assertEquals(site.root(), path.get(path.size() - 1));
    }

    @Test
    void serverChainIsAcceptedForServerAuth() throws Exception {
        TestIdentity server = site.issueServer("gw.site.local", "10.0.0.1");
        site.chainValidator().validate(server.chain(), Purpose.SERVER_AUTH);
    }

    @Test
    void deviceCertificateIsRefusedForServerAuth() {
        TestIdentity device = site.issueDevice("chain-purpose");
        assertEquals(Reason.WRONG_USAGE, refusal(site.chainValidator(), device.chain(), Purpose.SERVER_AUTH));
        assertEquals(Reason.WRONG_USAGE, refusal(site.chainValidator(), device.chain(), Purpose.CODE_SIGNING));
    }

    @Test
    void serverCertificateIsRefusedForClientAuth() {
        TestIdentity server = site.issueServer("gw2.site.local");
        assertEquals(Reason.WRONG_USAGE, refusal(site.chainValidator(), server.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void certificateFromAnotherCaWithTheSameNamesIsUntrusted() {
        TestIdentity stranger = other.issueDevice("chain-ok");
        assertEquals(site.root().getSubjectX500Principal(), other.root().getSubjectX500Principal(),
                "same subject names, different keys");
        assertEquals(Reason.UNTRUSTED, refusal(site.chainValidator(), stranger.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void leafWithoutItsIssuingCaIsUntrusted() {
        TestIdentity device = site.issueDevice("chain-alone");
        assertEquals(Reason.UNTRUSTED,
                refusal(site.chainValidator(), List.of(device.certificate()), Purpose.CLIENT_AUTH));
    }

    @Test
    void emptyChainIsMalformed() {
        assertEquals(Reason.MALFORMED, refusal(site.chainValidator(), List.of(), Purpose.CLIENT_AUTH));
    }

    @Test
    void certificateIsExpiredOnceTheClockPassesItsNotAfter() throws Exception {
        TestIdentity device = site.issueDevice("chain-expiring");
        clock.advance(Duration.ofDays(29));
        site.chainValidator().validate(device.chain(), Purpose.CLIENT_AUTH);
        clock.advance(Duration.ofDays(1).plusSeconds(1));
        assertEquals(Reason.EXPIRED, refusal(site.chainValidator(), device.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void expiredCertificateFromTheKitIsRefusedAsExpired() {
        TestIdentity expired = site.expiredDevice("chain-expired");
        assertEquals(Reason.EXPIRED, refusal(site.chainValidator(), expired.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void certificateIsNotYetValidBeforeItsNotBefore() {
        TestIdentity device = site.issueDevice("chain-future");
        clock.advance(Duration.ofMinutes(-10));
        assertEquals(Reason.NOT_YET_VALID, refusal(site.chainValidator(), device.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void revokedCertificateIsRefused() {
        TestIdentity revoked = site.revokedDevice("chain-revoked");
        CertificateValidationException e = assertThrows(CertificateValidationException.class,
                () -> site.chainValidator().validate(revoked.chain(), Purpose.CLIENT_AUTH));
        assertEquals(Reason.REVOKED, e.reason());
        assertEquals("chain.revoked", e.reason().code());
    }

    @Test
    void staleCrlTriggersOneRefreshAndThenFailsClosedAsUnknown() throws Exception {
        TestIdentity device = site.issueDevice("chain-stale");
        SnapshotCrls crls = new SnapshotCrls();
        ChainValidator validator = new ChainValidator(List.of(site.root()), crls, clock);
        validator.validate(device.chain(), Purpose.CLIENT_AUTH);
        assertEquals(List.of(), crls.refreshed, "a fresh CRL needs no refresh");

        clock.advance(Duration.ofDays(8)); // past the 7-day nextUpdate of the held CRL

        assertEquals(Reason.REVOCATION_UNKNOWN, refusal(validator, device.chain(), Purpose.CLIENT_AUTH));
        assertEquals(List.of(site.ca().issuingCertificate().getSubjectX500Principal()), crls.refreshed,
                "refresh asked exactly once, for the issuing CA");
    }

    @Test
    void staleCrlIsAcceptedOnceTheRefreshSuppliesAFreshOne() throws Exception {
        TestIdentity device = site.issueDevice("chain-refresh");
        SnapshotCrls crls = new SnapshotCrls();
        crls.refreshFromCa = true;
        ChainValidator validator = new ChainValidator(List.of(site.root()), crls, clock);
        clock.advance(Duration.ofDays(8));

        validator.validate(device.chain(), Purpose.CLIENT_AUTH);

        assertEquals(1, crls.refreshed.size());
        validator.validate(device.chain(), Purpose.CLIENT_AUTH);
        assertEquals(1, crls.refreshed.size(), "no second refresh while the new CRL is fresh");
    }

    @Test
    void revocationFoundAfterARefreshIsStillRefused() throws Exception {
        TestIdentity device = site.issueDevice("chain-refresh-revoked");
        SnapshotCrls crls = new SnapshotCrls(); // taken before the revocation
        crls.refreshFromCa = true;
        site.ca().revoke(device.serial(), dev.siteward.pki.RevocationReason.KEY_COMPROMISE);
        ChainValidator validator = new ChainValidator(List.of(site.root()), crls, clock);
        clock.advance(Duration.ofDays(8));
        assertEquals(Reason.REVOKED, refusal(validator, device.chain(), Purpose.CLIENT_AUTH));
    }

    @Test
    void missingCrlFailsClosedAfterOneRefresh() {
        TestIdentity device = site.issueDevice("chain-nocrl");
        List<X500Principal> refreshed = new ArrayList<>();
        CrlSource none = new CrlSource() {
            @Override
            public Optional<X509CRL> crlFor(X500Principal issuer) {
                return Optional.empty();
            }

            @Override
            public void refresh(X500Principal issuer) {
                refreshed.add(issuer);
            }
        };
        ChainValidator validator = new ChainValidator(List.of(site.root()), none, clock);
        assertEquals(Reason.REVOCATION_UNKNOWN, refusal(validator, device.chain(), Purpose.CLIENT_AUTH));
        assertEquals(1, refreshed.size());
    }

    @Test
    void crlSignedByAnotherCaIsNotTrusted() throws Exception {
        TestIdentity device = site.issueDevice("chain-forged-crl");
        X509CRL forged = other.ca().crl(); // same issuer name, other key
        CrlSource source = issuer -> issuer.equals(site.root().getSubjectX500Principal())
                ? Optional.of(rootCrl()) : Optional.of(forged);
        ChainValidator validator = new ChainValidator(List.of(site.root()), source, clock);
        assertEquals(Reason.REVOCATION_UNKNOWN, refusal(validator, device.chain(), Purpose.CLIENT_AUTH));
    }

    private static X509CRL rootCrl() {
        try {
            return site.ca().rootCrl();
        } catch (PkiException e) {
            throw new AssertionError(e);
        }
    }
}
