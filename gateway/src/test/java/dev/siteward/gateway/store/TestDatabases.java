package dev.siteward.gateway.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The databases store tests run against: the embedded H2 and a local PostgreSQL (started by scripts/test-all.sh:
 * database {@code siteward_test}, user and password {@code siteward}; override with the system properties or
 * environment variables {@code SITEWARD_TEST_PG_URL}, {@code _USER}, {@code _PASSWORD}). Each PostgreSQL store gets
 * a schema of its own, dropped on close. Without a reachable PostgreSQL, its tests are skipped with a message,
 * except under {@code CI=true}, where that is a failure.
 */
public final class TestDatabases {

    public enum Kind { H2, POSTGRESQL }

    private TestDatabases() {
    }

    /** The kinds for {@code @MethodSource}: every test runs on both. */
    public static Stream<Kind> kinds() {
        return Stream.of(Kind.H2, Kind.POSTGRESQL);
    }

    static String setting(String name, String fallback) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv(name);
        }
        return v == null || v.isBlank() ? fallback : v;
    }

    public static String pgUrl() {
        return setting("SITEWARD_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/siteward_test");
    }

    public static String pgUser() {
        return setting("SITEWARD_TEST_PG_USER", "siteward");
    }

    public static String pgPassword() {
        return setting("SITEWARD_TEST_PG_PASSWORD", "siteward");
    }

    /** A store of this kind for the data dir, freshly migrated; a PostgreSQL one in a new schema. */
    public static GatewayStore open(Kind kind, Path dataDir) throws StoreException {
        if (kind == Kind.H2) {
            return GatewayStore.openEmbedded(dataDir);
        }
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16)
                .toLowerCase(Locale.ROOT);
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
             Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            String why = "PostgreSQL not reachable at " + pgUrl() + " (" + e.getMessage()
                    + "); scripts/test-all.sh starts one";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(why + " — required under CI=true", e);
            }
            Assumptions.abort(why);
        }
        String url = pgUrl() + (pgUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema;
        return GatewayStore.open(dataDir, new DatabaseSettings(url, pgUser(), pgPassword(), null));
    }

    /** Drops a PostgreSQL test schema (no-op for H2); call after closing the store. */
    public static void drop(GatewayStore store) {
        if (store == null || !store.isPostgres()) {
            return;
        }
        String url = store.url();
        String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
             Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException ignored) {
            // a leftover schema in a test database harms nothing
        }
    }
}
