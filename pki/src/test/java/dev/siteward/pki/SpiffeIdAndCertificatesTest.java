package dev.siteward.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** The small shared facts: identities, serials in hex, reason and key-type names. */
class SpiffeIdAndCertificatesTest {

    @Test
    void deviceIdentityFormatsAndParsesBack() {
        SpiffeId id = SpiffeId.device("site.local", "cam-01");
        assertEquals("spiffe://site.local/device/cam-01", id.toString());
        assertEquals(id, SpiffeId.parseOrNull(id.toString()));
        assertEquals(SpiffeId.Kind.ADMIN, SpiffeId.parseOrNull("spiffe://site.local/admin/alice").kind());
    }

    @Test
    void textThatIsNotASitewardIdentityParsesToNull() {
        assertNull(SpiffeId.parseOrNull("https://site.local/device/cam-01"));
        assertNull(SpiffeId.parseOrNull("spiffe://site.local/robot/cam-01"));
        assertNull(SpiffeId.parseOrNull("spiffe://site.local/device/cam-01/extra"));
        assertNull(SpiffeId.parseOrNull("spiffe://site.local/device/CAM"));
        assertNull(SpiffeId.parseOrNull("spiffe://Site.Local/device/cam"));
        assertNull(SpiffeId.parseOrNull(null));
    }

    @Test
    void invalidNamesAndTrustDomainsAreRefusedWithAMessageNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SpiffeId.device("site.local", "Bad Id"));
        assertTrue(e.getMessage().contains("'Bad Id'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SpiffeId.device("site_local", "cam"));
        assertThrows(IllegalArgumentException.class, () -> SpiffeId.device("-site.local", "cam"));
    }

    @Test
    void serialsRoundTripThroughHexWithColonsAndPrefix() {
        BigInteger serial = new BigInteger("00ff10ab", 16);
        assertEquals("ff10ab", Certificates.serialHex(serial));
        assertEquals(serial, Certificates.parseSerial("FF:10:AB"));
        assertEquals(serial, Certificates.parseSerial("0xff10ab"));
        assertThrows(IllegalArgumentException.class, () -> Certificates.parseSerial("xyz"));
        assertThrows(IllegalArgumentException.class, () -> Certificates.parseSerial(""));
        assertThrows(IllegalArgumentException.class, () -> Certificates.parseSerial("1".repeat(41)));
    }

    @Test
    void revocationReasonsUseTheirRfc5280NamesAndCodes() {
        assertEquals(RevocationReason.KEY_COMPROMISE, RevocationReason.parse("keyCompromise"));
        assertEquals(RevocationReason.CESSATION_OF_OPERATION, RevocationReason.parse("cessationofoperation"));
        assertEquals(9, RevocationReason.PRIVILEGE_WITHDRAWN.code());
        assertEquals(RevocationReason.SUPERSEDED, RevocationReason.ofCode(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RevocationReason.parse("stolen"));
        assertTrue(e.getMessage().contains("keyCompromise"), "names the accepted reasons");
    }

    @Test
    void keyTypesAndProfilesParseTheirCliNames() {
        assertEquals(KeyType.P384, KeyType.parse("P384"));
        assertEquals("SHA256withECDSA", KeyType.P256.signatureAlgorithm());
        assertEquals(KeyType.P256, KeyType.ofFieldSize(256));
        assertNull(KeyType.ofFieldSize(521));
        assertThrows(IllegalArgumentException.class, () -> KeyType.parse("rsa"));
        assertEquals(CertificateProfile.PUBLISHER, CertificateProfile.parse("publisher"));
        assertTrue(CertificateProfile.PUBLISHER.issuedByPublisherCa());
        assertThrows(IllegalArgumentException.class, () -> CertificateProfile.parse("root"));
    }
}
