package dev.siteward.gateway.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublisherTrustTest {

    static X509Certificate vision;
    static X509Certificate security;

    @TempDir
    Path data;

    @BeforeAll
    static void roots() throws Exception {
        vision = KeyMaterial.selfSignedCertificate(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "vision",
                Clock.systemUTC(), Duration.ofDays(30));
        security = KeyMaterial.selfSignedCertificate(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256),
                "security", Clock.systemUTC(), Duration.ofDays(30));
    }

    @Test
    void noFileMeansNobodyIsTrusted() throws Exception {
        PublisherTrust trust = PublisherTrust.load(data);
        assertTrue(trust.publishers().isEmpty());
        assertTrue(trust.rootsForModel("vision/cam").isEmpty());
        assertTrue(trust.policyRoots().isEmpty());
    }

    @Test
    void savedTrustReadsBackWithTheSameRules() throws Exception {
        PublisherTrust.none()
                .with(new PublisherTrust.Publisher("vision-team", List.of(vision), List.of("vision/*"), false))
                .with(new PublisherTrust.Publisher("security-team", List.of(security), List.of(), true))
                .save(data);
        PublisherTrust trust = PublisherTrust.load(data);
        assertEquals(List.of("vision-team", "security-team"),
                trust.publishers().stream().map(PublisherTrust.Publisher::name).toList());
        assertEquals(List.of(vision), trust.rootsForModel("vision/cam"));
        assertTrue(trust.rootsForModel("audio/mic").isEmpty());
        assertTrue(trust.rootsForModel("visionx/cam").isEmpty());
        assertEquals(List.of(security), trust.policyRoots());
    }

    @Test
    void removingAPublisherDropsItsRights() throws Exception {
        PublisherTrust trust = PublisherTrust.none()
                .with(new PublisherTrust.Publisher("vision-team", List.of(vision), List.of("vision/*"), true));
        trust.without("vision-team").save(data);
        PublisherTrust read = PublisherTrust.load(data);
        assertTrue(read.rootsForModel("vision/cam").isEmpty());
        assertTrue(read.policyRoots().isEmpty());
    }

    @Test
    void unknownKeysAreRefused() throws Exception {
        write("publishers:\n  - name: a\n    roots: a.pem\n    models: [\"a/*\"]\n    polices: true\n");
        PublisherTrustException e = assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data));
        assertTrue(e.getMessage().contains("unknown key 'polices'"), e.getMessage());
    }

    @Test
    void badRulesAndNamesAreRefused() throws Exception {
        write("publishers:\n  - name: a\n    roots: a.pem\n    models: [\"a/b*\"]\n");
        assertTrue(assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data)).getMessage()
                .contains("model rule 'a/b*'"));
        write("publishers:\n  - name: A\n    roots: a.pem\n    models: [\"a/*\"]\n");
        assertTrue(assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data)).getMessage()
                .contains("publisher name 'A'"));
    }

    @Test
    void rootsOutsideTheTrustFolderAreRefused() throws Exception {
        write("publishers:\n  - name: a\n    roots: ../a.pem\n    models: [\"a/*\"]\n");
        assertTrue(assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data)).getMessage()
                .contains("must be a file name"));
    }

    @Test
    void aMissingRootsFileIsRefusedNotIgnored() throws Exception {
        write("publishers:\n  - name: b\n    roots: b.pem\n    models: [\"b/*\"]\n");
        assertTrue(assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data)).getMessage()
                .contains("cannot read roots file"));
    }

    @Test
    void duplicatePublishersAreRefused() throws Exception {
        write("publishers:\n  - name: a\n    roots: a.pem\n    models: [\"a/*\"]\n"
                + "  - name: a\n    roots: a.pem\n    policies: true\n");
        assertTrue(assertThrows(PublisherTrustException.class, () -> PublisherTrust.load(data)).getMessage()
                .contains("listed twice"));
    }

    private void write(String yaml) throws Exception {
        Path dir = Files.createDirectories(data.resolve(PublisherTrust.DIRECTORY));
        Files.writeString(dir.resolve("a.pem"), PemCodec.certificates(List.of(vision)), StandardCharsets.US_ASCII);
        Files.writeString(dir.resolve(PublisherTrust.FILE_NAME), yaml, StandardCharsets.UTF_8);
    }
}
