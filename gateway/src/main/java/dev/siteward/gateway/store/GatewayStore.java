package dev.siteward.gateway.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The gateway's database: an H2 file in the data dir by default (no external service), or any JDBC URL (e.g.
 * PostgreSQL) given by configuration. The schema is brought up to date with Flyway migrations from
 * {@code db/migration} whenever the store is opened.
 */
public final class GatewayStore implements AutoCloseable {

    /** Subdirectory of the data dir holding the embedded database. */
    public static final String DB_DIR = "db";

    private final DataSource dataSource;
    private final AutoCloseable closer;
    private final String url;

    private GatewayStore(DataSource dataSource, AutoCloseable closer, String url) {
        this.dataSource = dataSource;
        this.closer = closer;
        this.url = url;
    }

    /**
     * Opens the embedded H2 database in {@code <dataDir>/db/}. Commits are written through at once
     * ({@code WRITE_DELAY=0}), so a killed process loses no committed transaction.
     */
    public static GatewayStore openEmbedded(Path dataDir) throws StoreException {
        Path dir = dataDir.resolve(DB_DIR);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        String url = "jdbc:h2:file:" + dir.resolve("siteward").toAbsolutePath()
                + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=10000";
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "siteward", "");
        pool.setMaxConnections(16);
        GatewayStore store = new GatewayStore(pool, pool::dispose, url);
        store.migrate();
        return store;
    }

    /**
     * Opens the database the settings name: the embedded H2 in the data dir when they give no URL, else the JDBC
     * URL (PostgreSQL: {@code jdbc:postgresql://host:5432/db}) through a pool of up to 16 connections. Either way
     * the same Flyway migrations bring the schema up to date.
     */
    public static GatewayStore open(Path dataDir, DatabaseSettings settings) throws StoreException {
        if (settings == null || settings.isEmbedded()) {
            return openEmbedded(dataDir);
        }
        String url = settings.url();
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new StoreException("siteward.database.url must be a jdbc:postgresql: URL (got "
                    + settings.describe() + ")", null);
        }
        org.postgresql.ds.PGConnectionPoolDataSource pg = new org.postgresql.ds.PGConnectionPoolDataSource();
        try {
            pg.setURL(url);
        } catch (IllegalArgumentException e) {
            throw new StoreException("invalid siteward.database.url: " + e.getMessage(), e);
        }
        if (settings.user() != null) {
            pg.setUser(settings.user());
        }
        String password = settings.effectivePassword();
        if (password != null) {
            pg.setPassword(password);
        }
        pg.setConnectTimeout(10);
        pg.setApplicationName("siteward");
        JdbcConnectionPool pool = JdbcConnectionPool.create(pg);
        pool.setMaxConnections(16);
        pool.setLoginTimeout(30);
        GatewayStore store = new GatewayStore(pool, pool::dispose, url);
        store.migrate();
        return store;
    }

    /** True when this store is a PostgreSQL database (else the embedded H2). */
    public boolean isPostgres() {
        return url.startsWith("jdbc:postgresql:");
    }

    private void migrate() throws StoreException {
        try {
            Flyway.configure(GatewayStore.class.getClassLoader()).dataSource(dataSource)
                    .locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            close();
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            if (msg.contains("Database may be already in use") || msg.contains("locked by another process")) {
                throw new StoreException("the database in use by another process (is the gateway running?)", e);
            }
            throw new StoreException("cannot open the database: " + msg.lines().findFirst().orElse(msg), e);
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Connection connection() throws SQLException {
        return dataSource.getConnection();
    }

    public String url() {
        return url;
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws (its own
     * exception type {@code E} passes through unchanged).
     */
    public <T, E extends Exception> T inTransaction(TransactionWork<T, E> work) throws StoreException, E {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            boolean committed = false;
            try {
                T result = work.run(c);
                c.commit();
                committed = true;
                return result;
            } finally {
                if (!committed) {
                    c.rollback();
                }
            }
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        }
    }

    /** A unit of work inside a transaction. */
    @FunctionalInterface
    public interface TransactionWork<T, E extends Exception> {
        T run(Connection connection) throws SQLException, E;
    }

    @Override
    public void close() {
        try {
            closer.close();
        } catch (Exception ignored) {
            // closing a pool cannot lose committed data
        }
    }
}
