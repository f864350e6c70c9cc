
inc-1ransomware staging"shadow copies deleted on ws-014(0:EDR-17BT1490B	T1059.001JC2.Bad.ExampleJ198.51.100.7P Í¿“ı1Zalice„Î¿“ı1 