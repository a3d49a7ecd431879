package dev.siteward.gateway.server;

import dev.siteward.gateway.store.DatabaseSettings;
import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * The gateway's database under {@code siteward.database.*} (application.yml, {@code -D} system properties, or
 * environment variables such as {@code SITEWARD_DATABASE_URL}): no URL keeps the embedded H2 in
 * {@code <data-dir>/db}; a {@code jdbc:postgresql://host:port/db} URL selects PostgreSQL, with {@code user} and
 * {@code password-file} (or {@code password}). See docs/storage.md.
 */
@ConfigurationProperties(DatabaseConfiguration.PREFIX)
public class DatabaseConfiguration {

    public static final String PREFIX = "siteward.database";

    private String url;
    private String user;
    private String password;
    private String passwordFile;

    /** JDBC URL of a PostgreSQL database; empty for the embedded H2 (the default). */
    public String getUrl() {
        return url;
    }

    public void setUrl(String url) {
        this.url = url;
    }

    /** Database user. */
    public String getUser() {
        return user;
    }

    public void setUser(String user) {
        this.user = user;
    }

    /** Database password (prefer {@code password-file}). */
    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    /** File whose first line is the database password. */
    public String getPasswordFile() {
        return passwordFile;
    }

    public void setPasswordFile(String passwordFile) {
        this.passwordFile = passwordFile;
    }

    public DatabaseSettings settings() {
        return new DatabaseSettings(blank(url), blank(user), blank(password), blank(passwordFile));
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
