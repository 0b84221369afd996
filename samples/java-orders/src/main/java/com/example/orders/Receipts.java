package com.example.orders;

import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;

/** A library class, not a handler: no template names it, it implements no handler interface. */
public class Receipts {
    public String load(String bucket, String key) {
        AmazonS3 s3 = AmazonS3ClientBuilder.defaultClient();
        return s3.getObjectAsString(bucket, key);
    }
}
