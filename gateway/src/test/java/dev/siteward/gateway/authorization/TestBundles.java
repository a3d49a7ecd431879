package dev.siteward.gateway.authorization;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Signed policy bundles for tests: a publisher CA made in code and a small valve policy with its own test case. */
final class TestBundles implements AutoCloseable {

    static final String VALVES = """
            schemaVersion: 1
            rules:
              - id: valve-controllers-open
                description: Valve controllers open the valves.
                effect: allow
                subjects:
                  deviceLabels: {class: valve-controller}
                actions: [valve.open]
                resources:
                  ids: [valve-*]
            """;

    static final String VALVE_CASES = """
            schemaVersion: 1
            cases:
              - name: a valve controller opens a valve
                at: "2026-03-02T08:00:00Z"
                subject: {id: vc-01, kind: device, labels: {class: valve-controller}}
                action: valve.open
                resource: {id: valve-07}
                expect: allow
            """;

    private final TestPki publisherCa;
    private final TestIdentity publisher;
    private final MutableClock clock;

    TestBundles(Path dir, MutableClock clock) {
        this.clock = clock;
        this.publisherCa = TestPki.builder(dir.resolve("publisher-ca")).clock(clock).kind(CaKind.PUBLISHER).build();
        this.publisher = publisherCa.issue(CertificateProfile.PUBLISHER, "secteam");
    }

    /** The publisher CA's root, to trust for policies. */
    List<X509Certificate> roots() {
        return List.of(publisherCa.root());
    }

    /** Writes a bundle folder with the valve policy, its test case and the given metadata, and signs it. */
    Path signed(Path dir, long version, Duration validity) throws Exception {
        return signed(dir, version, validity, VALVES, VALVE_CASES);
    }

    Path signed(Path dir, long version, Duration validity, String policy, String cases) throws Exception {
        Files.createDirectories(dir.resolve("tests"));
        Files.writeString(dir.resolve("valves.yaml"), policy);
        if (cases != null) {
            Files.writeString(dir.resolve("tests/valves.yaml"), cases);
        }
        Instant now = clock.instant();
        Files.writeString(dir.resolve(PolicyBundleMetadata.FILE_NAME),
                new PolicyBundleMetadata(version, now, now.plus(validity)).toYaml());
        return sign(dir);
    }

    /** Signs the folder as it is. */
    Path sign(Path dir) throws Exception {
        Path sig = dir.resolve(PolicyBundles.SIGNATURE_FILE);
        Files.deleteIfExists(sig);
        ModelSigner.withCertificateChain(publisher.privateKey(), publisher.chain().subList(0, 2))
                .sign(ModelLocation.of(dir).signatureFile(sig)).writeTo(sig);
        return dir;
    }

    @Override
    public void close() {
        publisherCa.close();
    }
}
