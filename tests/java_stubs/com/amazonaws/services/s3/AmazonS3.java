package com.amazonaws.services.s3;

public interface AmazonS3 {
    String getObjectAsString(String bucket, String key);
    void putObject(String bucket, String key, String content);
    void shutdown();
    void setRegion(String region);
}
