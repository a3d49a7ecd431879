package dev.siteward.gateway.trust;

/** The publishers file cannot be read or breaks its rules; the message names the file and the problem. */
public final class PublisherTrustException extends Exception {

    public PublisherTrustException(String message) {
        super(message);
    }
}
