package com.amazonaws.regions;

public enum Regions { US_EAST_1, EU_WEST_1 }
