package dev.siteward.device.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.modelsig.Withdrawal;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device's model install against an in-test gateway: real release metadata (ES256 JWS with a service/release
 * certificate of the test site), real model signatures from publisher CAs, every attack of issue 4 refused with its
 * own exception type and code while the installed model stays exactly as it was.
 */
class ModelClientTest {

    static final String NAME = "vision/people-counter";
    static final String DEVICE = "cam-1";

    @TempDir
    static Path shared;
    static MutableClock clock;
    static TestPki site;
    static TestPki visionCa;
    static TestPki audioCa;
    static TestPki rogueCa;
    static TestIdentity visionSigner;
    static TestIdentity audioSigner;
    static TestIdentity rogueSigner;
    static ReleaseSite release;
    static FakeModelServer server;

    @TempDir
    Path tmp;
    DeviceDirectory dir;
    DeviceIdentity identity;
    ModelClient client;
    long metadataVersion;
    final List<Duration> slept = new ArrayList<>();

    @BeforeAll
    static void site() throws Exception {
        clock = MutableClock.atSystemTime();
        site = TestPki.create(shared.resolve("site"), clock);
        visionCa = TestPki.builder(shared.resolve("vision")).kind(CaKind.PUBLISHER).clock(clock).build();
        audioCa = TestPki.builder(shared.resolve("audio")).kind(CaKind.PUBLISHER).clock(clock).build();
        rogueCa = TestPki.builder(shared.resolve("rogue")).kind(CaKind.PUBLISHER).clock(clock).build();
        visionSigner = ReleaseSite.publisher(visionCa, "vision-signer");
        audioSigner = ReleaseSite.publisher(audioCa, "audio-signer");
        rogueSigner = ReleaseSite.publisher(rogueCa, "rogue-signer");
        release = new ReleaseSite(site.issue(CertificateProfile.SERVICE, "release"));
        server = new FakeModelServer(site, site.issueServer("localhost", "127.0.0.1"));
    }

    @AfterAll
    static void close() {
        server.close();
        site.close();
        visionCa.close();
        audioCa.close();
        rogueCa.close();
    }

    @BeforeEach
    void device() throws Exception {
        server.seen.clear();
        server.interruptions.clear();
        server.trust = release.trust(1, trustRules());
        server.metadata = null;
        dir = new DeviceDirectory(tmp.resolve("device"));
        identity = enroll(dir, DEVICE);
        client = newClient();
    }

    static Map<String, Map.Entry<List<String>, List<X509Certificate>>> trustRules() {
        Map<String, Map.Entry<List<String>, List<X509Certificate>>> rules = new LinkedHashMap<>();
        rules.put("vision-team", Map.entry(List.of("vision/*"), List.of(visionCa.root())));
        rules.put("audio-team", Map.entry(List.of("audio/*"), List.of(audioCa.root())));
        return rules;
    }

    static DeviceIdentity enroll(DeviceDirectory dir, String deviceId) throws Exception {
        TestIdentity issued = site.issueDevice(deviceId);
        List<X509Certificate> chain = issued.chain().subList(0, 2);
        KeyReference ref = new Pkcs12DeviceKeyStore(dir.keysDir(), clock).store(issued.keyPair(), chain);
        String td = site.ca().trustDomain();
        DeviceState state = new DeviceState(deviceId, SpiffeId.device(td, deviceId).toString(), td, chain,
                site.root(), server.url(), server.url(), ref, null, clock.instant(), null);
        dir.commit(state);
        return new DeviceIdentity(state, issued.privateKey());
    }

    ModelClient newClient() {
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1),
                new Random(1)), 4, slept::add);
        return ModelClient.over(new DeviceHttpClient(identity, clock), dir, clock, retry, Duration.ofDays(3));
    }

    static Map<String, byte[]> files(long version) {
        Map<String, byte[]> files = new TreeMap<>();
        byte[] weights = new byte[300_000];
        new Random(version).nextBytes(weights);
        files.put("model.onnx", weights);
        files.put("siteward-model.yaml", ("entry: model.onnx\nversion: " + version + "\n")
                .getBytes(StandardCharsets.UTF_8));
        return files;
    }

    ReleaseSite.Published publish(long version) throws Exception {
        return ReleaseSite.publish(server, tmp, NAME, version, files(version), visionSigner);
    }

    /** Serves fresh metadata (next version) listing the entries. */
    void serve(ObjectNode... entries) {
        serve(List.of(entries), List.of());
    }

    void serve(List<ObjectNode> entries, List<byte[]> withdrawals) {
        server.metadata = release.metadata(DEVICE, ++metadataVersion, clock.instant().plus(Duration.ofDays(7)),
                new ArrayList<>(entries), withdrawals);
    }

    /** Installs version 1 and returns a record of what is installed, to compare after an attack. */
    Installed installVersion1() throws Exception {
        serve(publish(1).entry(null));
        FetchResult r = client.fetch(NAME);
        assertEquals(FetchResult.Outcome.INSTALLED, r.outcome());
        return installed();
    }

    record Installed(String active, Map<String, InstalledModels.Slot> slots, Map<String, String> files) {
    }

    Installed installed() throws Exception {
        InstalledModels.ModelSlots s = client.store().load().model(NAME);
        Map<String, String> hashes = new TreeMap<>();
        if (s.active() != null) {
            Path slot = client.store().slotDir(NAME, s.active());
            try (var walk = Files.walk(slot)) {
                for (Path p : walk.filter(Files::isRegularFile).toList()) {
                    hashes.put(slot.relativize(p).toString(), ReleaseSite.sha256(Files.readAllBytes(p)));
                }
            }
        }
        return new Installed(s.active(), s.slots(), hashes);
    }

    /** The fetch is refused with this type and code, reported as refused, and the installed model is unchanged. */
    <T extends ModelSecurityException> T assertRefused(Class<T> type, RefusalCode code, Installed before)
            throws Exception {
        int reports = server.reports().size();
        ModelSecurityException e = assertThrows(ModelSecurityException.class, () -> client.fetch(NAME));
        assertInstanceOf(type, e, e.toString());
        assertEquals(code, e.code(), e.getMessage());
        assertEquals(before, installed(), "the installed model is unchanged");
        if (before.active() != null) {
            assertEquals(before.slots().get(before.active()).version(), client.load(NAME).version(),
                    "the current model still loads and verifies");
        }
        List<FakeModelServer.Seen> sent = server.reports();
        assertEquals(reports + 1, sent.size(), "one report");
        String body = sent.get(sent.size() - 1).body();
        assertTrue(body.contains("\"result\":\"refused\"") && body.contains("\"code\":\"" + code.code() + "\""),
                body);
        assertEquals(code.code(), client.store().load().model(NAME).last().code());
        return type.cast(e);
    }

    @Test
    void aReleasedModelIsInstalledIntoSlotAVerifiedAndReported() throws Exception {
        Installed i = installVersion1();

        assertEquals("a", i.active());
        VerifiedModel m = client.load(NAME);
        assertEquals(1, m.version());
        assertArrayEquals(files(1).get("model.onnx"), m.file("model.onnx"));
        assertArrayEquals(files(1).get("model.onnx"),
                Files.readAllBytes(client.store().slotDir(NAME, "a").resolve("model.onnx")));
        assertTrue(server.reports().get(0).body().contains("\"result\":\"installed\""));
        assertEquals(FetchResult.Outcome.CURRENT, client.fetch(NAME).outcome(), "the same release is current");
        assertTrue(Files.exists(client.store().root().resolve("trust.jws")), "the trust document is pinned");
    }

    @Test
    void aNewerVersionGoesToTheOtherSlotAndThePreviousOneIsKept() throws Exception {
        installVersion1();
        ReleaseSite.Published v1 = publish(1);
        serve(publish(2).entry(null));

        FetchResult r = client.fetch(NAME);

        assertEquals(FetchResult.Outcome.INSTALLED, r.outcome());
        assertEquals(2L, r.running());
        assertEquals(1L, r.previous());
        InstalledModels.ModelSlots s = client.store().load().model(NAME);
        assertEquals("b", s.active());
        assertEquals(1, s.slots().get("a").version());
        assertEquals(2, client.load(NAME).version());
        assertArrayEquals(v1.files().get("model.onnx"),
                Files.readAllBytes(client.store().slotDir(NAME, "a").resolve("model.onnx")));
    }

    @Test
    void aByteFlippedInAModelFileIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        Map<String, byte[]> flipped = new TreeMap<>(v2.files());
        byte[] w = flipped.get("model.onnx").clone();
        w[1234] ^= 0x01;
        flipped.put("model.onnx", w);
        server.blobs.put(ReleaseSite.sha256(w), w);
        ReleaseSite.Published tampered = new ReleaseSite.Published(NAME, 2, v2.signatureSha256(),
                v2.signatureSize(), flipped);
        serve(tampered.entry(null));

        ContentRefusedException e = assertRefused(ContentRefusedException.class, RefusalCode.MODEL_DIGEST_MISMATCH,
                before);
        assertTrue(e.getMessage().contains("model.onnx"), e.getMessage());
    }

    @Test
    void aFileAddedToTheReleaseIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        Map<String, byte[]> more = new TreeMap<>(v2.files());
        byte[] extra = "import os\n".getBytes(StandardCharsets.UTF_8);
        more.put("hook.py", extra);
        server.blobs.put(ReleaseSite.sha256(extra), extra);
        serve(new ReleaseSite.Published(NAME, 2, v2.signatureSha256(), v2.signatureSize(), more).entry(null));

        assertRefused(ContentRefusedException.class, RefusalCode.MODEL_FILES_MISMATCH, before);
    }

    @Test
    void aFileRemovedFromTheReleaseIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        Map<String, byte[]> fewer = new TreeMap<>(v2.files());
        fewer.remove("siteward-model.yaml");
        serve(new ReleaseSite.Published(NAME, 2, v2.signatureSha256(), v2.signatureSize(), fewer).entry(null));

        assertRefused(ContentRefusedException.class, RefusalCode.MODEL_FILES_MISMATCH, before);
    }

    @Test
    void aFileRenamedInTheReleaseIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        Map<String, byte[]> renamed = new TreeMap<>(v2.files());
        renamed.put("model-v2.onnx", renamed.remove("model.onnx"));
        serve(new ReleaseSite.Published(NAME, 2, v2.signatureSha256(), v2.signatureSize(), renamed).entry(null));

        assertRefused(ContentRefusedException.class, RefusalCode.MODEL_FILES_MISMATCH, before);
    }

    @Test
    void aModelSignedByAnUntrustedPublisherIsRefused() throws Exception {
        Installed before = installVersion1();
        serve(ReleaseSite.publish(server, tmp, NAME, 2, files(2), rogueSigner).entry(null));

        assertRefused(PublisherRefusedException.class, RefusalCode.MODEL_UNTRUSTED_PUBLISHER, before);
    }

    @Test
    void aModelSignedByAnotherTeamsPublisherIsRefused() throws Exception {
        Installed before = installVersion1();
        serve(ReleaseSite.publish(server, tmp, NAME, 2, files(2), audioSigner).entry(null));

        assertRefused(PublisherRefusedException.class, RefusalCode.MODEL_UNTRUSTED_PUBLISHER, before);
    }

    @Test
    void aValidOlderMetadataDocumentReplayedIsRefused() throws Exception {
        serve(publish(1).entry(null));
        String old = server.metadata;
        client.fetch(NAME);
        serve(publish(2).entry(null));
        client.fetch(NAME);
        Installed before = installed();
        server.metadata = old;

        assertRefused(StaleMetadataException.class, RefusalCode.METADATA_REPLAYED, before);
    }

    @Test
    void expiredMetadataIsRefused() throws Exception {
        Installed before = installVersion1();
        server.metadata = release.metadata(DEVICE, ++metadataVersion, clock.instant().minusSeconds(60),
                List.of(publish(2).entry(null)), List.of());

        assertRefused(StaleMetadataException.class, RefusalCode.METADATA_EXPIRED, before);
    }

    @Test
    void aDowngradeToAWithdrawnVersionIsRefusedEvenWhenARollbackDirectsIt() throws Exception {
        installVersion1();
        serve(publish(2).entry(null));
        client.fetch(NAME);
        Installed before = installed();
        byte[] withdrawal = ModelSigner.withCertificateChain(visionSigner.privateKey(),
                visionSigner.chain().subList(0, 2)).signWithdrawal(Withdrawal.below(NAME, 2, Instant.now()));
        serve(List.of(publish(1).entry(2L)), List.of(withdrawal));

        assertRefused(VersionRefusedException.class, RefusalCode.MODEL_WITHDRAWN, before);

        serve(List.of(publish(1).entry(2L)), List.of());
        assertRefused(VersionRefusedException.class, RefusalCode.MODEL_WITHDRAWN, before);
        assertEquals(2, client.store().load().withdrawn().get(NAME).below(), "the withdrawal is remembered");
    }

    @Test
    void aWithdrawalSignedByAnotherTeamIsIgnored() throws Exception {
        installVersion1();
        serve(publish(2).entry(null));
        client.fetch(NAME);
        byte[] forged = ModelSigner.withCertificateChain(audioSigner.privateKey(),
                audioSigner.chain().subList(0, 2)).signWithdrawal(Withdrawal.below(NAME, 2, Instant.now()));
        serve(List.of(publish(1).entry(2L)), List.of(forged));

        assertEquals(FetchResult.Outcome.ROLLED_BACK, client.fetch(NAME).outcome());
    }

    @Test
    void aLowerVersionWithoutARollbackDirectiveIsRefused() throws Exception {
        installVersion1();
        serve(publish(2).entry(null));
        client.fetch(NAME);
        Installed before = installed();
        serve(publish(1).entry(null));

        assertRefused(VersionRefusedException.class, RefusalCode.MODEL_ROLLBACK_REFUSED, before);
    }

    @Test
    void aRollbackDirectedByFreshMetadataIsInstalled() throws Exception {
        installVersion1();
        serve(publish(2).entry(null));
        client.fetch(NAME);
        serve(publish(1).entry(2L));

        FetchResult r = client.fetch(NAME);

        assertEquals(FetchResult.Outcome.ROLLED_BACK, r.outcome());
        assertEquals(1, client.load(NAME).version());
        assertEquals(2L, r.previous());
    }

    @Test
    void metadataWhoseSnapshotDoesNotMatchItsEntriesIsRefused() throws Exception {
        Installed before = installVersion1();
        ObjectNode payload = ReleaseSite.metadataPayload(DEVICE, ++metadataVersion, clock.instant(),
                clock.instant().plus(Duration.ofDays(7)), List.of(publish(2).entry(null)), List.of());
        payload.put("snapshot", ReleaseSite.snapshot(List.of(publish(3).entry(null))));
        server.metadata = release.sign(SignedDocuments.RELEASE_TYP, payload);

        assertRefused(MetadataRefusedException.class, RefusalCode.METADATA_MIX_AND_MATCH, before);
    }

    @Test
    void metadataOfReleaseAWithTheFilesOfReleaseBIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        ReleaseSite.Published v3 = publish(3);
        serve(new ReleaseSite.Published(NAME, 3, v3.signatureSha256(), v3.signatureSize(), v2.files()).entry(null));

        assertRefused(ContentRefusedException.class, RefusalCode.MODEL_DIGEST_MISMATCH, before);
    }

    @Test
    void metadataForAnotherDeviceIsRefused() throws Exception {
        Installed before = installVersion1();
        server.metadata = release.metadata("cam-2", ++metadataVersion, clock.instant().plus(Duration.ofDays(7)),
                List.of(publish(2).entry(null)), List.of());

        assertRefused(MetadataRefusedException.class, RefusalCode.METADATA_WRONG_DEVICE, before);
    }

    @Test
    void metadataSignedByAnythingButTheSitesReleaseKeyIsRefused() throws Exception {
        Installed before = installVersion1();
        ObjectNode payload = ReleaseSite.metadataPayload(DEVICE, ++metadataVersion, clock.instant(),
                clock.instant().plus(Duration.ofDays(7)), List.of(publish(2).entry(null)), List.of());
        server.metadata = ReleaseSite.sign(SignedDocuments.RELEASE_TYP, payload,
                site.issue(CertificateProfile.SERVICE, "mqtt"));
        assertRefused(MetadataRefusedException.class, RefusalCode.METADATA_BAD_SIGNATURE, before);

        try (TestPki other = site.otherCa(tmp.resolve("other"))) {
            server.metadata = ReleaseSite.sign(SignedDocuments.RELEASE_TYP, payload,
                    other.issue(CertificateProfile.SERVICE, "release"));
            assertRefused(MetadataRefusedException.class, RefusalCode.METADATA_BAD_SIGNATURE, before);
        }
        server.metadata = release.sign(SignedDocuments.TRUST_TYP, payload);
        assertRefused(MetadataRefusedException.class, RefusalCode.METADATA_BAD_SIGNATURE, before);
    }

    @Test
    void pathsWithDotDotOrAbsolutePathsAreRefusedBeforeAnyDownload() throws Exception {
        Installed before = installVersion1();
        for (String path : List.of("../escape.onnx", "/etc/escape.onnx", "sub/../../escape.onnx")) {
            ReleaseSite.Published v2 = publish(2);
            Map<String, byte[]> bad = new TreeMap<>(v2.files());
            bad.put(path, bad.remove("model.onnx"));
            serve(new ReleaseSite.Published(NAME, 2, v2.signatureSha256(), v2.signatureSize(), bad).entry(null));
            int blobRequests = blobRequests();

            assertRefused(ContentRefusedException.class, RefusalCode.MODEL_PATH_REFUSED, before);
            assertEquals(blobRequests, blobRequests(), "nothing was downloaded");
        }
        assertFalse(Files.exists(client.store().root().resolve("vision/escape.onnx")));
        assertFalse(Files.exists(tmp.resolve("escape.onnx")));
    }

    @Test
    void aSignedManifestWithDotDotPathsIsRefused() throws Exception {
        Installed before = installVersion1();
        byte[] w = files(2).get("model.onnx");
        byte[] bundle = CraftedBundles.modelBundle(visionSigner, Map.of("../model.onnx", w));
        server.blobs.put(ReleaseSite.sha256(bundle), bundle);
        ObjectNode entry = new ReleaseSite.Published(NAME, 2, ReleaseSite.sha256(bundle), bundle.length,
                Map.of("model.onnx", w)).entry(null);
        serve(entry);

        assertRefused(ContentRefusedException.class, RefusalCode.MODEL_PATH_REFUSED, before);
    }

    @Test
    void aSymbolicLinkInTheModelFolderIsRefusedWhenTheModelIsLoaded() throws Exception {
        installVersion1();
        Path slot = client.store().slotDir(NAME, "a");
        Path secret = tmp.resolve("secret.txt");
        Files.writeString(secret, "not a model");
        Files.createSymbolicLink(slot.resolve("extra.onnx"), secret);

        ContentRefusedException e = assertThrows(ContentRefusedException.class, () -> client.load(NAME));
        assertEquals(RefusalCode.MODEL_PATH_REFUSED, e.code());

        Files.delete(slot.resolve("model.onnx"));
        Files.createSymbolicLink(slot.resolve("model.onnx"), secret);
        assertEquals(RefusalCode.MODEL_PATH_REFUSED,
                assertThrows(ContentRefusedException.class, () -> client.load(NAME)).code());
    }

    @Test
    void aTruncatedDownloadIsRefusedAsADigestMismatch() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        byte[] full = server.blobs.get(sha);
        server.blobs.put(sha, java.util.Arrays.copyOf(full, full.length - 1000));
        try {
            serve(v2.entry(null));
            ContentRefusedException e = assertRefused(ContentRefusedException.class,
                    RefusalCode.MODEL_DIGEST_MISMATCH, before);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            assertFalse(Files.exists(client.store().root().resolve(".downloads/" + sha + ".part")),
                    "the refused bytes are not kept");
        } finally {
            server.blobs.put(sha, full);
        }
    }

    @Test
    void aFileThatChangedOnTheGatewayAfterPublishIsRefused() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        byte[] full = server.blobs.get(sha);
        byte[] changed = full.clone();
        changed[changed.length - 1] ^= 0x40;
        server.blobs.put(sha, changed);
        try {
            serve(v2.entry(null));
            assertRefused(ContentRefusedException.class, RefusalCode.MODEL_DIGEST_MISMATCH, before);
        } finally {
            server.blobs.put(sha, full);
        }
    }

    @Test
    void aBodyTheGatewayCutsShortAgainAtTheSamePlaceIsRefusedAsADigestMismatch() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        server.cutShort.add(sha);
        try {
            serve(v2.entry(null));
            ContentRefusedException e = assertRefused(ContentRefusedException.class,
                    RefusalCode.MODEL_DIGEST_MISMATCH, before);
            assertTrue(e.getMessage().contains("cut the body off at byte 299000"), e.getMessage());
            assertEquals(1, slept.size(), "one resume, then the refusal");
        } finally {
            server.cutShort.remove(sha);
        }
    }

    @Test
    void aBodyCutShortWhoseRestTheGatewayThenRefusesWithAServerErrorIsADigestMismatch() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        server.cutShort.add(sha);
        server.cutWithError = true;
        try {
            serve(v2.entry(null));
            ContentRefusedException e = assertRefused(ContentRefusedException.class,
                    RefusalCode.MODEL_DIGEST_MISMATCH, before);
            assertTrue(e.getMessage().contains("refused the rest"), e.getMessage());
        } finally {
            server.cutShort.remove(sha);
            server.cutWithError = false;
        }
    }

    @Test
    void aBlobTheGatewayReportsAsChangedOnItsDiskIsRefusedWithoutRetries() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        server.corrupt.add(sha);
        try {
            serve(v2.entry(null));
            assertRefused(ContentRefusedException.class, RefusalCode.MODEL_DIGEST_MISMATCH, before);
            assertEquals(0, slept.size(), "not retried");
        } finally {
            server.corrupt.remove(sha);
        }
    }

    @Test
    void aSingleFileModelIsInstalledUnderItsSignedName() throws Exception {
        Path file = tmp.resolve("detector.onnx");
        byte[] bytes = files(7).get("model.onnx");
        Files.write(file, bytes);
        byte[] bundle = ModelSigner.withCertificateChain(visionSigner.privateKey(), visionSigner.chain().subList(0, 2))
                .sign(dev.siteward.pki.modelsig.ModelLocation.of(file)).bundle();
        server.blobs.put(ReleaseSite.sha256(bundle), bundle);
        server.blobs.put(ReleaseSite.sha256(bytes), bytes);
        serve(new ReleaseSite.Published(NAME, 7, ReleaseSite.sha256(bundle), bundle.length, Map.of(".", bytes))
                .entry(null));

        assertEquals(FetchResult.Outcome.INSTALLED, client.fetch(NAME).outcome());

        assertArrayEquals(bytes, Files.readAllBytes(client.store().slotDir(NAME, "a").resolve("detector.onnx")));
        assertArrayEquals(bytes, client.load(NAME).file("."));
    }

    @Test
    void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
        installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        server.interruptions.put(sha, new AtomicInteger(1));
        serve(v2.entry(null));

        FetchResult r = client.fetch(NAME);

        assertEquals(FetchResult.Outcome.INSTALLED, r.outcome());
        assertEquals(2, client.load(NAME).version());
        List<FakeModelServer.Seen> gets = server.seen.stream()
                .filter(s -> s.path().equals("/v1/models/blobs/" + sha)).toList();
        assertEquals(2, gets.size(), gets.toString());
        assertNull(gets.get(0).range());
        assertEquals("bytes=150000-", gets.get(1).range());
        assertEquals(1, slept.size(), "one backoff wait before the retry");
    }

    @Test
    void aModelThatFailsItsHealthCheckFallsBackToThePreviousSlot() throws Exception {
        installVersion1();
        client.healthCheck(m -> {
            if (m.version() == 2) {
                throw new IllegalStateException("inference returned NaN");
            }
        });
        serve(publish(2).entry(null));

        FetchResult r = client.fetch(NAME);

        assertEquals(FetchResult.Outcome.FALLBACK, r.outcome());
        assertEquals(1L, r.running());
        assertEquals(1, client.load(NAME).version());
        InstalledModels.ModelSlots s = client.store().load().model(NAME);
        assertEquals("a", s.active());
        assertTrue(s.slots().get("b").healthFailed());
        String report = server.reports().get(server.reports().size() - 1).body();
        assertTrue(report.contains("\"result\":\"fallback\""), report);

        int blobRequests = blobRequests();
        assertEquals(FetchResult.Outcome.FALLBACK, client.fetch(NAME).outcome(), "not tried again");
        assertEquals(blobRequests, blobRequests());
    }

    @Test
    void aTransportFailureIsRetriedAndKeepsTheInstalledModel() throws Exception {
        Installed before = installVersion1();
        ReleaseSite.Published v2 = publish(2);
        String sha = ReleaseSite.sha256(v2.files().get("model.onnx"));
        server.interruptions.put(sha, new AtomicInteger(10));
        serve(v2.entry(null));

        DeviceException e = assertThrows(DeviceException.class, () -> client.fetch(NAME));

        assertTrue(e.retryable(), e.toString());
        assertEquals(3, slept.size(), "four attempts, three waits");
        assertEquals(before, installed());
        assertEquals("failed", client.store().load().model(NAME).last().result());
    }

    @Test
    void aModelNotReleasedToThisDeviceIsReportedAsSuch() throws Exception {
        serve(ReleaseSite.publish(server, tmp, "audio/keyword", 1, files(1), audioSigner).entry(null));

        assertEquals(FetchResult.Outcome.NOT_RELEASED, client.fetch(NAME).outcome());
        assertEquals(FetchResult.Outcome.INSTALLED, client.fetch("audio/keyword").outcome());
    }

    int cli(java.io.StringWriter out, java.io.StringWriter err, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--dir");
        all.add(dir.path().toString());
        return dev.siteward.device.cli.DeviceCommand.execute(all.toArray(new String[0]),
                new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
    }

    @Test
    void theCliInstallsAReleasedModelAndStatusShowsItsSlot() throws Exception {
        serve(publish(1).entry(null));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();

        assertEquals(0, cli(out, err, "model", "fetch", NAME), err.toString());
        assertTrue(out.toString().startsWith("installed " + NAME + " version 1 in slot a"), out.toString());
        assertEquals(0, cli(out, err, "model", "fetch", NAME), "already current: " + err);

        java.io.StringWriter json = new java.io.StringWriter();
        assertEquals(0, cli(json, err, "model", "status", "--json"), err.toString());
        var n = ReleaseSite.JSON.readTree(json.toString());
        assertEquals(1, n.path("models").path(NAME).path("version").asLong(), json.toString());
        assertEquals("a", n.path("models").path(NAME).path("active").asText());
        assertEquals("fresh", n.path("freshness").asText());
        assertEquals(metadataVersion, n.path("metadata").path("version").asLong());

        java.io.StringWriter text = new java.io.StringWriter();
        assertEquals(0, cli(text, err, "model", "status"));
        assertTrue(text.toString().contains(NAME + ": version 1 (slot a"), text.toString());
    }

    @Test
    void theCliExitsOneWithTheCodeWhenAReleaseIsRefusedAndTwoForABadName() throws Exception {
        installVersion1();
        serve(ReleaseSite.publish(server, tmp, NAME, 2, files(2), rogueSigner).entry(null));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();

        assertEquals(1, cli(out, err, "model", "fetch", NAME));
        assertTrue(err.toString().trim().endsWith("[model.untrusted_publisher]"), err.toString());
        assertEquals(1, err.toString().trim().lines().count(), "one line, no stack trace");

        java.io.StringWriter err2 = new java.io.StringWriter();
        assertEquals(2, cli(out, err2, "model", "fetch", "Vision/../x"));
        assertEquals(1, err2.toString().trim().lines().count(), err2.toString());
        java.io.StringWriter err3 = new java.io.StringWriter();
        assertEquals(2, cli(out, err3, "model", "fetch", "audio/not-released"), err3.toString());
        assertTrue(err3.toString().contains("[model.not_released]"), err3.toString());
    }

    private static int blobRequests() {
        return (int) server.seen.stream().filter(s -> s.path().startsWith("/v1/models/blobs/")).count();
    }
}
