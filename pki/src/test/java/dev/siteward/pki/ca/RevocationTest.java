package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CRLReason;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Revocation by serial and by device id, and the CRL that follows it (RFC 5280 section 5). */
class RevocationTest {

    @TempDir
    static Path tmp;
    static MutableClock clock;
    static TestPki pki;

    @BeforeAll
    static void createCa() {
        clock = MutableClock.atDefaultStart();
        pki = TestPki.create(tmp, clock);
    }

    @AfterAll
    static void closeCa() {
        pki.close();
    }

    @AfterEach
    void resetClock() {
        clock.set(MutableClock.DEFAULT_START);
    }

    private static SiteCa ca() {
        return pki.ca();
    }

    @Test
    void revokingBySerialRecordsTheReasonAndListsItInANewCrlWithAHigherNumber() throws Exception {
        TestIdentity device = pki.issueDevice("rev-serial");
        BigInteger before = SiteCa.crlNumber(ca().crl());
        clock.advance(Duration.ofMinutes(5));

        RegistryEntry revoked = ca().revoke(device.serial(), RevocationReason.KEY_COMPROMISE);

        assertTrue(revoked.revoked());
        assertEquals(RevocationReason.KEY_COMPROMISE, revoked.reason());
        assertEquals(clock.instant(), revoked.revokedAt());
        assertEquals(revoked.revokedAt(), ca().registry().find(device.serial()).orElseThrow().revokedAt());
        X509CRL crl = ca().crl();
        assertTrue(SiteCa.crlNumber(crl).compareTo(before) > 0, "CRL number grows");
        crl.verify(ca().issuingCertificate().getPublicKey());
        assertEquals(ca().issuingCertificate().getSubjectX500Principal(), crl.getIssuerX500Principal());
        assertEquals(2, crl.getVersion(), "CRL v2");
        assertEquals(clock.instant(), crl.getThisUpdate().toInstant());
        assertEquals(clock.instant().plus(Duration.ofHours(SiteCa.DEFAULT_CRL_VALIDITY_HOURS)),
                crl.getNextUpdate().toInstant());
        X509CRLEntry entry = crl.getRevokedCertificate(device.serial());
        assertNotNull(entry, "serial listed");
        assertEquals(CRLReason.KEY_COMPROMISE, entry.getRevocationReason());
        assertEquals(clock.instant(), entry.getRevocationDate().toInstant());
        X509CRL onDisk = PemCodec.parseCrl(Files.readString(ca().directory().resolve("crl.pem")));
        assertEquals(crl, onDisk, "the published crl.pem is the new CRL");
    }

    @Test
    void everyRevocationRegeneratesTheCrl() throws Exception {
        TestIdentity a = pki.issueDevice("rev-a");
        TestIdentity b = pki.issueDevice("rev-b");
        ca().revoke(a.serial(), RevocationReason.SUPERSEDED);
        BigInteger afterFirst = SiteCa.crlNumber(ca().crl());
        ca().revoke(b.serial(), RevocationReason.CESSATION_OF_OPERATION);
        X509CRL crl = ca().crl();
        assertEquals(afterFirst.add(BigInteger.ONE), SiteCa.crlNumber(crl));
        assertEquals(CRLReason.SUPERSEDED, crl.getRevokedCertificate(a.serial()).getRevocationReason());
        assertEquals(CRLReason.CESSATION_OF_OPERATION, crl.getRevokedCertificate(b.serial()).getRevocationReason());
    }

    @Test
    void revokingByDeviceIdRevokesEveryUnexpiredCertificateOfThatDeviceOnly() throws Exception {
        TestIdentity expired = pki.expiredDevice("rev-id");
        TestIdentity first = pki.issueDevice("rev-id");
        clock.advance(Duration.ofMinutes(1));
        TestIdentity second = pki.issueDevice("rev-id");
        TestIdentity other = pki.issueDevice("rev-id-other");

        List<RegistryEntry> done = ca().revokeAll(CertificateProfile.DEVICE, "rev-id",
                RevocationReason.PRIVILEGE_WITHDRAWN);

        assertEquals(Set.of(first.serial(), second.serial()),
                done.stream().map(RegistryEntry::serial).collect(Collectors.toSet()));
        assertTrue(done.stream().allMatch(e -> e.reason() == RevocationReason.PRIVILEGE_WITHDRAWN));
        X509CRL crl = ca().crl();
        assertNotNull(crl.getRevokedCertificate(first.serial()));
        assertNotNull(crl.getRevokedCertificate(second.serial()));
        assertEquals(CRLReason.PRIVILEGE_WITHDRAWN, crl.getRevokedCertificate(first.serial()).getRevocationReason());
        assertNull(crl.getRevokedCertificate(expired.serial()), "expired certificates are left alone");
        assertNull(crl.getRevokedCertificate(other.serial()));
        assertFalse(ca().registry().find(other.serial()).orElseThrow().revoked());
    }

    @Test
    void revokingAnUnknownDeviceIdIsRefused() {
        PkiException e = assertThrows(PkiException.class, () -> ca().revokeAll(CertificateProfile.DEVICE,
                "never-enrolled", RevocationReason.KEY_COMPROMISE));
        assertEquals(Reason.NOT_FOUND, e.reason());
    }

    @Test
    void revokingAnUnknownSerialIsRefused() {
        PkiException e = assertThrows(PkiException.class,
                () -> ca().revoke(new BigInteger("123456789abcdef", 16), RevocationReason.KEY_COMPROMISE));
        assertEquals(Reason.NOT_FOUND, e.reason());
    }

    @Test
    void revokingTwiceIsRefusedAndLeavesTheFirstReason() throws Exception {
        TestIdentity device = pki.issueDevice("rev-twice");
        ca().revoke(device.serial(), RevocationReason.KEY_COMPROMISE);
        BigInteger number = SiteCa.crlNumber(ca().crl());
        PkiException e = assertThrows(PkiException.class,
                () -> ca().revoke(device.serial(), RevocationReason.SUPERSEDED));
        assertEquals(Reason.ALREADY_REVOKED, e.reason());
        assertEquals(RevocationReason.KEY_COMPROMISE, ca().registry().find(device.serial()).orElseThrow().reason());
        assertEquals(number, SiteCa.crlNumber(ca().crl()));
    }

    @Test
    void revokingACaCertificateIsRefused() throws Exception {
        for (BigInteger caSerial : List.of(ca().root().getSerialNumber(),
                ca().issuingCertificate().getSerialNumber())) {
            PkiException e = assertThrows(PkiException.class,
                    () -> ca().revoke(caSerial, RevocationReason.CA_COMPROMISE));
            assertEquals(Reason.PROFILE_NOT_ALLOWED, e.reason());
            assertFalse(ca().registry().find(caSerial).orElseThrow().revoked());
            assertNull(ca().crl().getRevokedCertificate(caSerial));
        }
    }

    @Test
    void crlIsRegeneratedOnceItIsPastHalfItsValidity() throws Exception {
        X509CRL current = ca().crl();
        Instant thisUpdate = current.getThisUpdate().toInstant();
        Duration validity = Duration.between(thisUpdate, current.getNextUpdate().toInstant());

        clock.set(thisUpdate.plus(validity.dividedBy(2)).minusSeconds(1));
        assertEquals(SiteCa.crlNumber(current), SiteCa.crlNumber(ca().crl()), "still fresh: the same CRL");

        clock.set(thisUpdate.plus(validity.dividedBy(2)).plusSeconds(1));
        X509CRL next = ca().crl();
        assertEquals(SiteCa.crlNumber(current).add(BigInteger.ONE), SiteCa.crlNumber(next));
        assertEquals(clock.instant(), next.getThisUpdate().toInstant());
        assertTrue(next.getNextUpdate().toInstant().isAfter(current.getNextUpdate().toInstant()));
    }

    @Test
    void rootCrlIsRenewedOncePastHalfItsValidityWhileTheRootKeyIsPresent() throws Exception {
        X509CRL first = ca().rootCrl();
        Duration validity = Duration.between(first.getThisUpdate().toInstant(), first.getNextUpdate().toInstant());
        assertEquals(SiteCa.ROOT_CRL_VALIDITY, validity);

        clock.set(first.getThisUpdate().toInstant().plus(validity.dividedBy(2)).plusSeconds(1));
        X509CRL renewed = ca().rootCrl();

        renewed.verify(ca().root().getPublicKey());
        assertEquals(clock.instant(), renewed.getThisUpdate().toInstant());
        assertEquals(SiteCa.crlNumber(first).add(BigInteger.ONE), SiteCa.crlNumber(renewed));
        assertEquals(renewed, pki.reopen().rootCrl(), "written to root-crl.pem");
    }

    @Test
    void chainsStillValidateAfterTheFirstRootCrlWouldHaveLapsed() throws Exception {
        clock.set(MutableClock.DEFAULT_START.plus(SiteCa.ROOT_CRL_VALIDITY).plus(Duration.ofDays(1)));
        TestIdentity device = pki.issueDevice("rev-next-year");
        pki.chainValidator().validate(device.chain(),
                dev.siteward.pki.validation.ChainValidator.Purpose.CLIENT_AUTH);
    }

    @Test
    void revocationsAndCrlNumbersSurviveAReopen() throws Exception {
        TestIdentity device = pki.issueDevice("rev-reopen");
        ca().revoke(device.serial(), RevocationReason.AFFILIATION_CHANGED);
        BigInteger number = SiteCa.crlNumber(ca().crl());

        SiteCa reopened = pki.reopen();

        RegistryEntry entry = reopened.registry().find(device.serial()).orElseThrow();
        assertEquals(RevocationReason.AFFILIATION_CHANGED, entry.reason());
        assertEquals(number, SiteCa.crlNumber(reopened.crl()), "the published CRL is reused while fresh");
        TestIdentity next = pki.issueDevice("rev-reopen-2");
        reopened.revoke(next.serial(), RevocationReason.KEY_COMPROMISE);
        X509CRL crl = reopened.crl();
        assertEquals(number.add(BigInteger.ONE), SiteCa.crlNumber(crl));
        assertNotNull(crl.getRevokedCertificate(device.serial()));
        assertNotNull(crl.getRevokedCertificate(next.serial()));
    }
}
