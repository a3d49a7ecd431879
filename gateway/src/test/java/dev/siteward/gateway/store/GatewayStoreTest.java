package dev.siteward.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.enrollment.EnrollmentService;
import dev.siteward.gateway.enrollment.EnrollmentTokens;
import dev.siteward.gateway.store.TestDatabases.Kind;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The same schema and the same behaviour on the embedded H2 and on PostgreSQL. */
class GatewayStoreTest {

    @TempDir
    Path dir;
    MutableClock clock = MutableClock.atSystemTime();
    TestPki pki;
    GatewayStore store;

    @AfterEach
    void tearDown() {
        if (store != null) {
            store.close();
            TestDatabases.drop(store);
        }
        if (pki != null) {
            pki.close();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void everyMigrationAppliesAndIsRecorded(Kind kind) throws Exception {
        store = TestDatabases.open(kind, dir.resolve("data"));
        List<String> versions = new ArrayList<>();
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT \"version\", \"success\" FROM \"flyway_schema_history\" "
                     + "WHERE \"version\" IS NOT NULL ORDER BY \"installed_rank\"")) {
            while (rs.next()) {
                assertTrue(rs.getBoolean(2), "migration " + rs.getString(1) + " failed");
                versions.add(rs.getString(1));
            }
        }
        assertTrue(versions.contains("1") && versions.contains("5"), versions.toString());
        assertEquals(kind == Kind.POSTGRESQL, store.isPostgres());
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void aFailedTransactionLeavesNothingBehind(Kind kind) throws Exception {
        store = TestDatabases.open(kind, dir.resolve("data"));
        assertThrows(IllegalStateException.class, () -> store.inTransaction(c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO devices (id, status, labels, registered, created_at) VALUES "
                        + "('d1', 'registered', '{}', TRUE, CURRENT_TIMESTAMP)");
            }
            throw new IllegalStateException("boom");
        }));
        try (Connection c = store.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM devices")) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.siteward.gateway.store.TestDatabases#kinds")
    void devicesRegisterEnrollAndChangeStatusOnEitherDatabase(Kind kind) throws Exception {
        pki = TestPki.create(dir.resolve("data"), clock);
        store = TestDatabases.open(kind, dir.resolve("data"));
        DeviceRegistry devices = new DeviceRegistry(store, pki.ca().registry(), clock);
        devices.register("pump-1", null, Map.of("zone", "a"));
        devices.label("pump-1", Map.of("line", "2"));
        KeyPair tokenKey = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        EnrollmentTokens tokens = new EnrollmentTokens(store, clock, (ECPrivateKey) tokenKey.getPrivate(),
                (ECPublicKey) tokenKey.getPublic(), "k1", Certificates.fingerprint(pki.root()));
        List<AuditEvent> audited = new ArrayList<>();
        AuditTrail trail = audited::add;
        EnrollmentService enrollment = new EnrollmentService(pki.ca(), store, devices, tokens, null,
                new ClientCertificateVerifier(() -> List.of(pki.ca().issuingCertificate()), pki.ca().registry(),
                        devices, pki.ca().trustDomain(), clock), clock, trail);
        String token = tokens.create("pump-1", Map.of(), Duration.ofMinutes(5));
        enrollment.enrollWithToken(KeyMaterial.certificationRequest(KeyMaterial.generate(
                KeyMaterial.Algorithm.EC_P256), "pump-1"), token);
        assertEquals(DeviceStatus.ACTIVE, devices.get("pump-1").status());
        assertEquals(Map.of("zone", "a", "line", "2"), devices.get("pump-1").labels());
        assertThrows(GatewayException.class, () -> enrollment.enrollWithToken(KeyMaterial.certificationRequest(
                KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "pump-1"), token));
        devices.setStatus("pump-1", DeviceStatus.SUSPENDED);
        assertEquals(1, devices.list().size());
        assertEquals(DeviceStatus.SUSPENDED, devices.get("pump-1").status());
        assertEquals(1, audited.size());
        assertEquals(AuditEvent.ENROLLMENT, audited.get(0).type());
        assertEquals("device/pump-1", audited.get(0).subject());
    }

    @Test
    void aNonPostgresqlUrlIsRefusedWithAReason() {
        StoreException e = assertThrows(StoreException.class, () -> GatewayStore.open(dir,
                new DatabaseSettings("jdbc:mysql://db/x", "u", "p", null)));
        assertTrue(e.getMessage().contains("jdbc:postgresql:"), e.getMessage());
    }
}
