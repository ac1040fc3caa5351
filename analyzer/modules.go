package analyzer

// placeholder replaced below
